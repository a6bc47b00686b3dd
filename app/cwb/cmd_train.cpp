// `cwb train --arch SPEC -o OUT.h5 [...]`: trains a small classifier on the Fashion-MNIST
// training set, reports test accuracy and loss after every epoch, saves a Keras .h5.
#include <cstdio>
#include <memory>

#include "app/cwb/command.h"
#include "app/cwb/train_cli.h"
#include "app/cwb/typed_options.h"
#include "core/backend/backend.h"
#include "core/error.h"
#include "core/io/keras_h5_writer.h"
#include "core/train/arch_spec.h"
#include "core/util/parallel.h"

namespace cwb::cli {
namespace {

struct TrainCommandArgs {
    std::string arch, output, csv;
    TrainArgs train;
};

int runTrain(const TrainCommandArgs& a) {
    const std::string& spec = a.arch;
    const std::string& out = a.output;
    if (out.empty()) throw UsageError("-o OUT.h5 is required: where to save the trained model");
    const TrainCli cli = parseTrainCli(a.train);

    train::ArchOptions arch;
    arch.seed = cli.options.seed;
    arch.dropout = cli.dropout;
    // The spec is checked before the data is loaded.
    Model model = asUsage([&] { return train::buildModel(spec, arch); });
    const LoadedData data = loadTrainingData(cli);
    std::printf(
        "training %s (%lld parameters) on %s (%d images), %s lr %g, batch %d, %d threads, seed "
        "%llu\n",
        spec.c_str(), model.parameterCount(), data.train.name.c_str(), data.train.size(),
        train::optimizerName(cli.options.optimizer.kind).c_str(),
        cli.options.optimizer.learningRate, cli.options.batchSize,
        resolveThreads(cli.options.threads), static_cast<unsigned long long>(cli.options.seed));
    const train::TrainResult result =
        cli.backend->trainModel(model, data.train, &data.test, cli.options, consoleCallbacks());
    model.format = "Keras .h5 trained by cwb train --arch " + spec;
    saveKerasH5(model, out);
    if (!a.csv.empty()) writeCurveCsv(a.csv, result);
    std::printf("wrote %s: test accuracy %.4f, loss %.4f\n", out.c_str(),
                result.epochs.back().testAccuracy, result.epochs.back().testLoss);
    return 0;
}

void declareTrain(CLI::App& app, TrainCommandArgs& a) {
    app.add_option("--arch", a.arch,
                   "the architecture: mlp:256,128, cnn:32,64/128 or cnn-bn:32,64/128")
        ->type_name("SPEC")
        ->required();
    app.add_option("-o,--output", a.output, "where to save the trained model (.h5)")
        ->type_name("OUT.h5");
    app.add_option("--csv", a.csv, "also write the learning curve here")->type_name("F");
    addTrainOptions(app, a.train, 5, 32);  // Keras's default batch size
}

const CommandRegistration registration =
    command<TrainCommandArgs>("train",
                              "train mlp:256,128 / cnn:32,64/128 / cnn-bn:... on Fashion-MNIST and "
                              "save Keras .h5",
                              declareTrain, runTrain);

}  // namespace
}  // namespace cwb::cli
