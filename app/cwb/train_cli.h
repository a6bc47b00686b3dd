// What `cwb train`, `cwb distill` and `cwb sweep --param temperature` share: the training
// options on the command line, the per-epoch report lines and the learning-curve CSV.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/io/idx_dataset.h"
#include "core/train/trainer.h"

namespace CLI {
class App;
}  // namespace CLI

namespace cwb {
class Backend;
}

namespace cwb::cli {

struct TrainCli {
    train::TrainOptions options;
    int limit = 0;        // training samples (0 = all 60 000)
    float dropout = 0.f;  // for architectures built from a spec
    std::string dataDir;
    Backend* backend = nullptr;  // where the training runs (--device; never null once parsed)
};

// The options every training command takes, as given on the command line.
struct TrainArgs {
    int epochs = 5, batch = 32, threads = 0, limit = 0, evalLimit = 0;
    std::uint64_t seed = 1;
    double learningRate = 1e-3, momentum = 0.9, dropout = 0.0;
    std::string optimizer = "adam", data = kDefaultDatasetDir;
    std::string device = "auto";
};

// Declares --epochs --seed --batch --lr --optimizer --momentum --dropout --eval-limit and,
// with `withCommon`, --threads --limit --data --device on `app` (the group "Training
// options"), bound to `args`, with the command's defaults.
void addTrainOptions(CLI::App& app, TrainArgs& args, int defaultEpochs, int defaultBatch,
                     bool withCommon = true);

// The training options the arguments ask for and the backend of --device (its fallback note
// on stderr); throws UsageError for a bad --optimizer.
TrainCli parseTrainCli(const TrainArgs& args);

struct LoadedData {
    Dataset train, test;
};
LoadedData loadTrainingData(const TrainCli& cli);

// "epoch 2/5  train loss 0.4044 acc 0.8572 | test loss 0.4207 acc 0.8496 | 3.8 s, 15978 img/s"
void printEpoch(const train::EpochReport& report, const std::string& prefix = "");

// Callbacks that print every epoch and, on a terminal, a live batch counter on stderr.
train::TrainCallbacks consoleCallbacks(const std::string& prefix = "");

// One row per epoch:
// epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds,images_per_second
void writeCurveCsv(const std::string& path, const train::TrainResult& result);

}  // namespace cwb::cli
