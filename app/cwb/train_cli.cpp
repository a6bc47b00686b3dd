// Shared option parsing and reporting of the training commands (see train_cli.h).
#include "app/cwb/train_cli.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <limits>

#include "app/cwb/command.h"
#include "app/cwb/device_option.h"
#include "app/cwb/typed_options.h"
#include "core/backend/backend.h"
#include "core/error.h"
#include "core/util/csv.h"

namespace cwb::cli {

void addTrainOptions(CLI::App& app, TrainArgs& a, int defaultEpochs, int defaultBatch,
                     bool withCommon) {
    a.epochs = defaultEpochs;
    a.batch = defaultBatch;
    const std::string group = "Training options";
    addInteger(app, "--epochs", a.epochs, 1, 10000, "passes over the training images")
        ->group(group);
    addInteger(app, "--seed", a.seed, 0, std::numeric_limits<long long>::max(),
               "seed of the initial weights and the shuffling")
        ->group(group);
    addInteger(app, "--batch", a.batch, 1, 65536, "images per step")->group(group);
    addNumber(app, "--lr", a.learningRate, Interval::open(0, 100), "learning rate")->group(group);
    app.add_option("--optimizer", a.optimizer, "adam or sgd")
        ->type_name("O")
        ->capture_default_str()
        ->group(group);
    addNumber(app, "--momentum", a.momentum, Interval::rightOpen(0, 1), "momentum of sgd")
        ->group(group);
    addNumber(app, "--dropout", a.dropout, Interval::rightOpen(0, 1),
              "dropout rate of architectures built from a spec")
        ->group(group);
    addInteger(app, "--eval-limit", a.evalLimit, 0, 100000000, "test images to use (0 = all)")
        ->group(group);
    if (!withCommon) return;
    addThreadsOption(app, a.threads)->group(group);
    addInteger(app, "--limit", a.limit, 0, 100000000, "training images to use (0 = all)")
        ->group(group);
    addDataOption(app, a.data, "the Fashion-MNIST folder")->group(group);
    addDeviceOption(app, a.device)->group(group);
}

TrainCli parseTrainCli(const TrainArgs& a) {
    TrainCli cli;
    auto& o = cli.options;
    o.epochs = a.epochs;
    o.seed = a.seed;
    o.batchSize = a.batch;
    o.optimizer.learningRate = a.learningRate;
    if (!train::parseOptimizer(a.optimizer, o.optimizer.kind))
        throw UsageError("--optimizer must be 'adam' or 'sgd', got '" + a.optimizer + "'");
    o.optimizer.momentum = a.momentum;
    o.threads = a.threads;
    cli.limit = a.limit;
    o.evalLimit = a.evalLimit;
    cli.dropout = static_cast<float>(a.dropout);
    cli.dataDir = a.data;
    cli.backend = &backendOr(deviceBackend(a.device));
    return cli;
}

LoadedData loadTrainingData(const TrainCli& cli) {
    return {loadFashionMnist(cli.dataDir, Split::Train, cli.limit),
            loadFashionMnist(cli.dataDir, Split::Test)};
}

void printEpoch(const train::EpochReport& r, const std::string& prefix) {
    std::printf(
        "%sepoch %d/%d  train loss %.4f acc %.4f | test loss %.4f acc %.4f | %.1f s, %.0f img/s\n",
        prefix.c_str(), r.epoch, r.epochs, r.trainLoss, r.trainAccuracy, r.testLoss, r.testAccuracy,
        r.trainSeconds, r.imagesPerSecond);
    std::fflush(stdout);
}

train::TrainCallbacks consoleCallbacks(const std::string& prefix) {
    train::TrainCallbacks callbacks;
    const bool live = isatty(STDERR_FILENO);
    auto last = std::make_shared<std::chrono::steady_clock::time_point>();
    callbacks.onBatch = [live, last, prefix](const train::BatchReport& b) {
        if (!live) return;
        const auto now = std::chrono::steady_clock::now();
        if (now - *last < std::chrono::milliseconds(250) && b.batch != b.batches) return;
        *last = now;
        std::fprintf(stderr, "\r%sepoch %d/%d  batch %d/%d  loss %.4f acc %.4f ", prefix.c_str(),
                     b.epoch, b.epochs, b.batch, b.batches, b.loss, b.accuracy);
        if (b.batch == b.batches)
            std::fprintf(stderr, "\r%*s\r", 70 + static_cast<int>(prefix.size()), "");
    };
    callbacks.onEpoch = [prefix](const train::EpochReport& r) { printEpoch(r, prefix); };
    return callbacks;
}

void writeCurveCsv(const std::string& path, const train::TrainResult& result) {
    CsvWriter csv;
    csv.row({"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds",
             "images_per_second"});
    for (const auto& r : result.epochs)
        csv.integer(r.epoch)
            .fixed(r.trainLoss, 6)
            .fixed(r.trainAccuracy, 6)
            .fixed(r.testLoss, 6)
            .fixed(r.testAccuracy, 6)
            .fixed(r.trainSeconds, 3)
            .fixed(r.imagesPerSecond, 0)
            .endRow();
    csv.save(path);
}

}  // namespace cwb::cli
