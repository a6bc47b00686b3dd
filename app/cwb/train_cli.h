// What `cwb train`, `cwb distill` and `cwb sweep --param temperature` share: the training
// options on the command line, the per-epoch report lines and the learning-curve CSV.
#pragma once

#include <string>
#include <vector>

#include "app/cwb/command.h"
#include "core/io/idx_dataset.h"
#include "core/train/trainer.h"

namespace cwb::cli {

struct TrainCli {
    train::TrainOptions options;
    int limit = 0;        // training samples (0 = all 60 000)
    float dropout = 0.f;  // for architectures built from a spec
    std::string dataDir;
};

// The options every training command takes, for Args::allowOnly.
std::vector<std::string> trainOptionNames();

// Reads --epochs --seed --batch --lr --optimizer --momentum --threads --limit --dropout
// --data --eval-limit with the given defaults; throws cwb::Error naming a bad value.
TrainCli parseTrainCli(const Args& args, int defaultEpochs, int defaultBatch);

// `-o OUT` (a positional pair, since Args reads only --options) or --output OUT; "" if absent.
std::string outputPath(const Args& args);
// The positional arguments other than `-o OUT`.
std::vector<std::string> plainPositionals(const Args& args);

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
