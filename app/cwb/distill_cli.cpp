// Teacher and data preparation for the distillation commands (see distill_cli.h).
#include "app/cwb/distill_cli.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "app/cwb/typed_options.h"
#include "core/infer/evaluate.h"
#include "core/io/model_loader.h"
#include "core/train/arch_spec.h"
#include "core/train/teacher_logits.h"

namespace cwb::cli {

train::SoftTargets DistillSetup::softTargets(double temperature, double weight) const {
    train::SoftTargets soft;
    soft.teacherLogits = logits.data();
    soft.classes = data.train.classes;
    soft.temperature = temperature;
    soft.weight = weight;
    return soft;
}

DistillSetup prepareDistillation(const std::string& teacherPath, const TrainCli& cli) {
    DistillSetup setup;
    setup.teacher = loadModel(teacherPath);
    setup.data = loadTrainingData(cli);
    EngineOptions engineOptions;
    engineOptions.threads = cli.options.threads;
    const auto engine = makeCpuEngine(setup.teacher, engineOptions);
    EvalOptions eval;
    eval.limit = cli.options.evalLimit;
    setup.teacherAccuracy = evaluate(*engine, setup.data.test, eval).accuracy;
    std::printf("teacher %s: test accuracy %.4f\n", teacherPath.c_str(), setup.teacherAccuracy);
    const auto start = std::chrono::steady_clock::now();
    setup.logits = train::teacherLogits(setup.teacher, setup.data.train, cli.options.threads);
    std::printf("cached the teacher's logits on %d training images in %.1f s\n",
                setup.data.train.size(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    std::fflush(stdout);
    return setup;
}

void addStudentOptions(CLI::App& app, std::string& student, double& kdWeight,
                       const Interval& kdWeightRange, const std::string& group) {
    CLI::Option* options[] = {
        app.add_option("--student", student, "the student's architecture spec")
            ->type_name("SPEC")
            ->capture_default_str(),
        addNumber(app, "--kd-weight", kdWeight, kdWeightRange,
                  "weight of the teacher's soft targets against the labels")};
    if (!group.empty())
        for (CLI::Option* option : options) option->group(group);
}

Model buildStudent(const std::string& spec, const TrainCli& cli) {
    train::ArchOptions arch;
    arch.seed = cli.options.seed;
    arch.dropout = cli.dropout;
    return train::buildModel(spec, arch);
}

}  // namespace cwb::cli
