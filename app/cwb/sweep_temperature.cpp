// The temperature sweep (see sweep_temperature.h).
#include "app/cwb/sweep_temperature.h"

#include <cstdio>
#include <fstream>

#include "app/cwb/distill_cli.h"
#include "app/cwb/train_cli.h"
#include "core/error.h"
#include "core/util/atomic_file.h"

namespace cwb::cli {

std::vector<std::string> temperatureSweepOptions() {
    auto names = trainOptionNames();
    names.insert(names.end(), {"param", "from", "to", "steps", "csv", "student", "kd-weight"});
    return names;
}

int runTemperatureSweep(const Args& args) {
    args.allowOnly(temperatureSweepOptions());
    const auto positionals = plainPositionals(args);
    if (positionals.size() != 1)
        throw Error(
            "expected one TEACHER model; usage: cwb sweep TEACHER --param temperature --from X "
            "--to Y --steps N");
    for (const char* required : {"from", "to", "steps"})
        if (!args.has(required))
            throw Error(std::string("--") + required + " is required for --param temperature");
    const double from = args.number("from", 1), to = args.number("to", 1);
    const int steps = args.integer("steps", 1);
    if (!(from > 0 && to > 0 && from <= 1000 && to <= 1000))
        throw Error("--from and --to must be temperatures in (0, 1000]");
    if (steps < 1 || steps > 1000) throw Error("--steps must be in 1..1000");
    const double weight = args.number("kd-weight", kDefaultKdWeight);
    if (!(weight > 0 && weight <= 1))
        throw Error("--kd-weight must be in (0, 1] for a temperature sweep");
    const TrainCli cli = parseTrainCli(args, 2, kDefaultDistillBatch);
    const std::string spec = args.text("student", kDefaultStudent);
    buildStudent(spec, cli);  // checks the spec before the slow steps

    const DistillSetup setup = prepareDistillation(positionals[0], cli);
    const train::TrainCallbacks quiet;
    Model baselineModel = buildStudent(spec, cli);
    const auto baseline =
        train::trainModel(baselineModel, setup.data.train, &setup.data.test, cli.options, quiet);
    const double baselineAccuracy = baseline.epochs.back().testAccuracy;
    std::printf("student %s, %d epochs, kd-weight %g; baseline (kd-weight 0): test accuracy %.4f\n",
                spec.c_str(), cli.options.epochs, weight, baselineAccuracy);
    std::printf("%-12s %-14s %-12s %-14s %s\n", "temperature", "test_accuracy", "test_loss",
                "baseline", "gain");
    std::string csv =
        "temperature,kd_weight,epochs,test_accuracy,test_loss,baseline_accuracy,baseline_loss\n";
    for (int i = 0; i < steps; ++i) {
        const double t = steps == 1 ? from : from + (to - from) * i / (steps - 1);
        Model student = buildStudent(spec, cli);
        train::TrainOptions options = cli.options;
        options.distill = setup.softTargets(t, weight);
        const auto r =
            train::trainModel(student, setup.data.train, &setup.data.test, options, quiet)
                .epochs.back();
        std::printf("%-12.4g %-14.4f %-12.4f %-14.4f %+.4f\n", t, r.testAccuracy, r.testLoss,
                    baselineAccuracy, r.testAccuracy - baselineAccuracy);
        std::fflush(stdout);
        char line[200];
        std::snprintf(line, sizeof line, "%g,%g,%d,%.6f,%.6f,%.6f,%.6f\n", t, weight,
                      cli.options.epochs, r.testAccuracy, r.testLoss, baselineAccuracy,
                      baseline.epochs.back().testLoss);
        csv += line;
    }
    if (args.has("csv")) {
        const std::string path = args.text("csv");
        writeFileAtomically(path, [&](const std::string& temp) {
            std::ofstream out(temp);
            out << csv;
            out.flush();
            if (!out) throw Error(path + ": could not write the CSV");
        });
    }
    return 0;
}

}  // namespace cwb::cli
