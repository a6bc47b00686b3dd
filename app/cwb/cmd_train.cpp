// `cwb train --arch SPEC -o OUT.h5 [...]`: trains a small classifier on the Fashion-MNIST
// training set, reports test accuracy and loss after every epoch, saves a Keras .h5.
#include <cstdio>

#include "app/cwb/command.h"
#include "app/cwb/train_cli.h"
#include "core/error.h"
#include "core/io/keras_h5_writer.h"
#include "core/train/arch_spec.h"
#include "core/util/parallel.h"

namespace cwb::cli {
namespace {

int runTrain(const Args& args) {
    auto known = trainOptionNames();
    known.insert(known.end(), {"arch", "csv"});
    args.allowOnly(known);
    if (!plainPositionals(args).empty())
        throw Error("unexpected argument '" + plainPositionals(args).front() +
                    "'; usage: cwb train --arch SPEC -o OUT.h5");
    const std::string spec = args.text("arch");
    if (spec.empty())
        throw Error("--arch is required, e.g. --arch mlp:256,128 or --arch cnn-bn:32,64/128");
    const std::string out = outputPath(args);
    if (out.empty()) throw Error("-o OUT.h5 is required: where to save the trained model");
    const TrainCli cli = parseTrainCli(args, 5, 32);  // Keras's default batch size

    train::ArchOptions arch;
    arch.seed = cli.options.seed;
    arch.dropout = cli.dropout;
    Model model = train::buildModel(spec, arch);  // checks the spec before loading data
    const LoadedData data = loadTrainingData(cli);
    std::printf(
        "training %s (%lld parameters) on %s (%d images), %s lr %g, batch %d, %d threads, seed "
        "%llu\n",
        spec.c_str(), model.parameterCount(), data.train.name.c_str(), data.train.size(),
        train::optimizerName(cli.options.optimizer.kind).c_str(),
        cli.options.optimizer.learningRate, cli.options.batchSize,
        resolveThreads(cli.options.threads), static_cast<unsigned long long>(cli.options.seed));
    const train::TrainResult result =
        train::trainModel(model, data.train, &data.test, cli.options, consoleCallbacks());
    model.format = "Keras .h5 trained by cwb train --arch " + spec;
    saveKerasH5(model, out);
    if (args.has("csv")) writeCurveCsv(args.text("csv"), result);
    std::printf("wrote %s: test accuracy %.4f, loss %.4f\n", out.c_str(),
                result.epochs.back().testAccuracy, result.epochs.back().testLoss);
    return 0;
}

const CommandRegistration registration{{
    "train",
    "train --arch SPEC -o OUT.h5 [--epochs E] [--seed S] [--batch B] [--lr L] [--optimizer "
    "adam|sgd] [--threads N]",
    "train mlp:256,128 / cnn:32,64/128 / cnn-bn:... on Fashion-MNIST and save Keras .h5",
    {},
    runTrain,
}};

}  // namespace
}  // namespace cwb::cli
