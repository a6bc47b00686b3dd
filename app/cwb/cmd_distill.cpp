// `cwb distill TEACHER --student SPEC --temperature T [--kd-weight L] -o STUDENT.h5 [...]`:
// trains a student from a spec on the Fashion-MNIST training set against the teacher's
// softened outputs (Hinton et al.), the teacher's logits computed once and cached.
#include <chrono>
#include <cstdio>
#include <memory>

#include "app/cwb/command.h"
#include "app/cwb/distill_cli.h"
#include "app/cwb/train_cli.h"
#include "app/cwb/typed_options.h"
#include "core/backend/backend.h"
#include "core/error.h"
#include "core/io/keras_h5_writer.h"
#include "core/util/atomic_file.h"
#include "core/util/parallel.h"

namespace cwb::cli {
namespace {

struct DistillArgs {
    std::string teacher, output, csv, student = kDefaultStudent;
    double temperature = 1.0;
    double kdWeight = kDefaultKdWeight;
    bool baseline = false;
    TrainArgs train;
};

int runDistill(const DistillArgs& a) {
    const std::string& out = a.output;
    if (out.empty())
        throw UsageError("-o STUDENT.h5 is required: where to save the distilled student");
    const double temperature = a.temperature, weight = a.kdWeight;
    refuseToOverwriteSource(out, a.teacher);
    const TrainCli cli = parseTrainCli(a.train);
    const std::string& spec = a.student;
    // The spec is checked before the slow steps.
    Model student = asUsage([&] { return buildStudent(spec, cli); });

    const DistillSetup setup = prepareDistillation(a.teacher, cli);
    std::printf(
        "distilling %s (%lld parameters) at T = %g, kd-weight %g: %s lr %g, batch %d, %d threads, "
        "seed %llu\n",
        spec.c_str(), student.parameterCount(), temperature, weight,
        train::optimizerName(cli.options.optimizer.kind).c_str(),
        cli.options.optimizer.learningRate, cli.options.batchSize,
        resolveThreads(cli.options.threads), static_cast<unsigned long long>(cli.options.seed));
    train::TrainOptions options = cli.options;
    options.distill = setup.softTargets(temperature, weight);
    const train::TrainResult result = cli.backend->trainModel(
        student, setup.data.train, &setup.data.test, options, consoleCallbacks());
    student.format = "Keras .h5 distilled by cwb distill (student " + spec + ")";
    saveKerasH5(student, out);
    if (!a.csv.empty()) writeCurveCsv(a.csv, result);
    std::printf("wrote %s: test accuracy %.4f, loss %.4f (teacher %.4f)\n", out.c_str(),
                result.epochs.back().testAccuracy, result.epochs.back().testLoss,
                setup.teacherAccuracy);
    if (a.baseline) {
        Model baseline = buildStudent(spec, cli);
        std::printf(
            "baseline: the same student, seed and epochs without the teacher (kd-weight 0)\n");
        const train::TrainResult plain =
            cli.backend->trainModel(baseline, setup.data.train, &setup.data.test, cli.options,
                                    consoleCallbacks("baseline "));
        std::printf("student %.4f vs baseline %.4f test accuracy (%+.4f from distillation)\n",
                    result.epochs.back().testAccuracy, plain.epochs.back().testAccuracy,
                    result.epochs.back().testAccuracy - plain.epochs.back().testAccuracy);
    }
    return 0;
}

void declareDistill(CLI::App& app, DistillArgs& a) {
    app.add_option("TEACHER", a.teacher, "the teacher: any model cwb can evaluate")->required();
    requiredOption(addNumber(app, "--temperature", a.temperature, Interval::leftOpen(0, 1000),
                             "softens the teacher's and the student's outputs, e.g. 4"));
    addStudentOptions(app, a.student, a.kdWeight, Interval::closed(0, 1));
    app.add_option("-o,--output", a.output, "where to save the student (.h5)")->type_name("OUT.h5");
    app.add_option("--csv", a.csv, "also write the learning curve here")->type_name("F");
    app.add_flag("--baseline", a.baseline,
                 "also train the same student without the teacher, to compare");
    addTrainOptions(app, a.train, 5, kDefaultDistillBatch);
}

const CommandRegistration registration = command<DistillArgs>(
    "distill", "train a student against a teacher's softened outputs (knowledge distillation)",
    declareDistill, runDistill);

}  // namespace
}  // namespace cwb::cli
