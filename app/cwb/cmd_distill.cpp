// `cwb distill TEACHER --student SPEC --temperature T [--kd-weight L] -o STUDENT.h5 [...]`:
// trains a student from a spec on the Fashion-MNIST training set against the teacher's
// softened outputs (Hinton et al.), the teacher's logits computed once and cached.
#include <chrono>
#include <cstdio>

#include "app/cwb/command.h"
#include "app/cwb/distill_cli.h"
#include "app/cwb/train_cli.h"
#include "core/error.h"
#include "core/io/keras_h5_writer.h"
#include "core/util/atomic_file.h"
#include "core/util/parallel.h"

namespace cwb::cli {
namespace {

int runDistill(const Args& args) {
    auto known = trainOptionNames();
    known.insert(known.end(), {"student", "temperature", "kd-weight", "csv", "baseline"});
    args.allowOnly(known);
    const auto positionals = plainPositionals(args);
    if (positionals.size() != 1)
        throw Error(
            "expected one TEACHER model; usage: cwb distill TEACHER --student SPEC --temperature T "
            "-o OUT.h5");
    const std::string out = outputPath(args);
    if (out.empty()) throw Error("-o STUDENT.h5 is required: where to save the distilled student");
    if (!args.has("temperature")) throw Error("--temperature is required, e.g. --temperature 4");
    const double temperature = args.number("temperature", 1.0);
    if (!(temperature > 0 && temperature <= 1000))
        throw Error("--temperature must be in (0, 1000]");
    const double weight = args.number("kd-weight", kDefaultKdWeight);
    if (!(weight >= 0 && weight <= 1)) throw Error("--kd-weight must be in [0, 1]");
    refuseToOverwriteSource(out, positionals[0]);
    const TrainCli cli = parseTrainCli(args, 5, kDefaultDistillBatch);
    const std::string spec = args.text("student", kDefaultStudent);
    Model student = buildStudent(spec, cli);  // checks the spec before the slow steps

    const DistillSetup setup = prepareDistillation(positionals[0], cli);
    std::printf(
        "distilling %s (%lld parameters) at T = %g, kd-weight %g: %s lr %g, batch %d, %d threads, "
        "seed %llu\n",
        spec.c_str(), student.parameterCount(), temperature, weight,
        train::optimizerName(cli.options.optimizer.kind).c_str(),
        cli.options.optimizer.learningRate, cli.options.batchSize,
        resolveThreads(cli.options.threads), static_cast<unsigned long long>(cli.options.seed));
    train::TrainOptions options = cli.options;
    options.distill = setup.softTargets(temperature, weight);
    const train::TrainResult result =
        train::trainModel(student, setup.data.train, &setup.data.test, options, consoleCallbacks());
    student.format = "Keras .h5 distilled by cwb distill (student " + spec + ")";
    saveKerasH5(student, out);
    if (args.has("csv")) writeCurveCsv(args.text("csv"), result);
    std::printf("wrote %s: test accuracy %.4f, loss %.4f (teacher %.4f)\n", out.c_str(),
                result.epochs.back().testAccuracy, result.epochs.back().testLoss,
                setup.teacherAccuracy);
    if (args.has("baseline")) {
        Model baseline = buildStudent(spec, cli);
        std::printf(
            "baseline: the same student, seed and epochs without the teacher (kd-weight 0)\n");
        const train::TrainResult plain =
            train::trainModel(baseline, setup.data.train, &setup.data.test, cli.options,
                              consoleCallbacks("baseline "));
        std::printf("student %.4f vs baseline %.4f test accuracy (%+.4f from distillation)\n",
                    result.epochs.back().testAccuracy, plain.epochs.back().testAccuracy,
                    result.epochs.back().testAccuracy - plain.epochs.back().testAccuracy);
    }
    return 0;
}

const CommandRegistration registration{{
    "distill",
    "distill TEACHER --student SPEC --temperature T [--kd-weight L] [--epochs E] [--seed S] -o "
    "OUT.h5 [--csv F]",
    "train a student against a teacher's softened outputs (knowledge distillation)",
    {"baseline"},
    runDistill,
}};

}  // namespace
}  // namespace cwb::cli
