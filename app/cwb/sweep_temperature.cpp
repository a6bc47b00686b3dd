// The temperature sweep (see sweep_temperature.h).
#include "app/cwb/sweep_temperature.h"

#include <cstdio>

#include "app/cwb/command.h"
#include "app/cwb/distill_cli.h"
#include "app/cwb/train_cli.h"
#include "core/backend/backend.h"
#include "core/error.h"
#include "core/util/csv.h"

namespace cwb::cli {

int runTemperatureSweep(const SweepArgs& a) {
    const double from = a.from, to = a.to, weight = a.kdWeight;
    const int steps = a.steps;
    if (!(from > 0 && to > 0 && from <= 1000 && to <= 1000))
        throw UsageError("--from and --to must be temperatures in (0, 1000]");
    if (steps > 1000) throw UsageError("--steps must be in 1..1000 for --param temperature");
    const TrainCli cli = parseTrainCli(a.train);
    const std::string& spec = a.student;
    asUsage([&] { return buildStudent(spec, cli); });  // checks the spec before the slow steps

    const DistillSetup setup = prepareDistillation(a.model, cli);
    const train::TrainCallbacks quiet;
    Model baselineModel = buildStudent(spec, cli);
    const auto baseline = cli.backend->trainModel(baselineModel, setup.data.train, &setup.data.test,
                                                  cli.options, quiet);
    const double baselineAccuracy = baseline.epochs.back().testAccuracy;
    std::printf("student %s, %d epochs, kd-weight %g; baseline (kd-weight 0): test accuracy %.4f\n",
                spec.c_str(), cli.options.epochs, weight, baselineAccuracy);
    std::printf("%-12s %-14s %-12s %-14s %s\n", "temperature", "test_accuracy", "test_loss",
                "baseline", "gain");
    CsvWriter csv;
    csv.row({"temperature", "kd_weight", "epochs", "test_accuracy", "test_loss",
             "baseline_accuracy", "baseline_loss"});
    for (int i = 0; i < steps; ++i) {
        const double t = steps == 1 ? from : from + (to - from) * i / (steps - 1);
        Model student = buildStudent(spec, cli);
        train::TrainOptions options = cli.options;
        options.distill = setup.softTargets(t, weight);
        const auto r =
            cli.backend->trainModel(student, setup.data.train, &setup.data.test, options, quiet)
                .epochs.back();
        std::printf("%-12.4g %-14.4f %-12.4f %-14.4f %+.4f\n", t, r.testAccuracy, r.testLoss,
                    baselineAccuracy, r.testAccuracy - baselineAccuracy);
        std::fflush(stdout);
        csv.number(t, 6)
            .number(weight, 6)
            .integer(cli.options.epochs)
            .fixed(r.testAccuracy, 6)
            .fixed(r.testLoss, 6)
            .fixed(baselineAccuracy, 6)
            .fixed(baseline.epochs.back().testLoss, 6)
            .endRow();
    }
    if (!a.csv.empty()) csv.save(a.csv, a.model);
    return 0;
}

}  // namespace cwb::cli
