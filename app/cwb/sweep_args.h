// What `cwb sweep` is given: cmd_sweep.cpp declares the options and runs the compression
// sweeps (--param alpha|rho); sweep_temperature.cpp runs --param temperature from the same.
#pragma once

#include <optional>
#include <string>

#include "app/cwb/compression_options.h"
#include "app/cwb/distill_cli.h"
#include "app/cwb/train_cli.h"

namespace cwb::cli {

struct SweepArgs {
    std::string model, param, csv, png;
    double from = 0.0, to = 0.0;
    int steps = 1;
    std::string pngSize = "800x500";
    std::optional<std::string> kernel;
    std::string device = "auto";
    CompressionArgs compression;
    // --data, --limit and --threads serve both kinds of sweep.
    TrainArgs train;
    std::string student = kDefaultStudent;
    double kdWeight = kDefaultKdWeight;
};

}  // namespace cwb::cli
