// Shared option parsing and reporting of the training commands (see train_cli.h).
#include "app/cwb/train_cli.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "core/error.h"
#include "core/util/atomic_file.h"

namespace cwb::cli {

std::vector<std::string> trainOptionNames() {
    return {"epochs",  "seed",  "batch",   "lr",   "optimizer",  "momentum",
            "threads", "limit", "dropout", "data", "eval-limit", "output"};
}

TrainCli parseTrainCli(const Args& args, int defaultEpochs, int defaultBatch) {
    TrainCli cli;
    auto& o = cli.options;
    o.epochs = args.integer("epochs", defaultEpochs);
    if (o.epochs < 1 || o.epochs > 10000)
        throw Error("--epochs must be in 1..10000, got " + std::to_string(o.epochs));
    const double seed = args.number("seed", 1);
    if (seed < 0 || seed != static_cast<double>(static_cast<long long>(seed)))
        throw Error("--seed must be a non-negative whole number");
    o.seed = static_cast<std::uint64_t>(seed);
    o.batchSize = args.integer("batch", defaultBatch);
    if (o.batchSize < 1 || o.batchSize > 65536)
        throw Error("--batch must be in 1..65536, got " + std::to_string(o.batchSize));
    o.optimizer.learningRate = args.number("lr", 1e-3);
    if (!(o.optimizer.learningRate > 0 && o.optimizer.learningRate < 100))
        throw Error("--lr must be a positive number below 100");
    const std::string optimizer = args.text("optimizer", "adam");
    if (!train::parseOptimizer(optimizer, o.optimizer.kind))
        throw Error("--optimizer must be 'adam' or 'sgd', got '" + optimizer + "'");
    o.optimizer.momentum = args.number("momentum", 0.9);
    if (!(o.optimizer.momentum >= 0 && o.optimizer.momentum < 1))
        throw Error("--momentum must be in [0, 1)");
    o.threads = args.integer("threads", 0);
    if (o.threads < 0 || o.threads > 1024)
        throw Error("--threads must be in 0..1024 (0 = all cores)");
    cli.limit = args.integer("limit", 0);
    if (cli.limit < 0)
        throw Error("--limit must be 0 (all) or a positive number of training images");
    o.evalLimit = args.integer("eval-limit", 0);
    if (o.evalLimit < 0)
        throw Error("--eval-limit must be 0 (all) or a positive number of test images");
    cli.dropout = static_cast<float>(args.number("dropout", 0));
    if (!(cli.dropout >= 0 && cli.dropout < 1)) throw Error("--dropout must be in [0, 1)");
    cli.dataDir = args.text("data", kDefaultDatasetDir);
    return cli;
}

std::string outputPath(const Args& args) {
    const auto& p = args.positional();
    for (std::size_t i = 0; i < p.size(); ++i)
        if (p[i] == "-o") {
            if (i + 1 >= p.size()) throw Error("-o needs a file name");
            return p[i + 1];
        }
    return args.text("output");
}

std::vector<std::string> plainPositionals(const Args& args) {
    std::vector<std::string> out;
    const auto& p = args.positional();
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] == "-o") {
            ++i;
            continue;
        }
        out.push_back(p[i]);
    }
    return out;
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
    writeFileAtomically(path, [&](const std::string& temp) {
        std::ofstream out(temp);
        out << "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds,images_per_"
               "second\n";
        char line[256];
        for (const auto& r : result.epochs) {
            std::snprintf(line, sizeof line, "%d,%.6f,%.6f,%.6f,%.6f,%.3f,%.0f\n", r.epoch,
                          r.trainLoss, r.trainAccuracy, r.testLoss, r.testAccuracy, r.trainSeconds,
                          r.imagesPerSecond);
            out << line;
        }
        out.flush();
        if (!out) throw Error(path + ": could not write the CSV (disk full or not writable?)");
    });
}

}  // namespace cwb::cli
