// The training loop (see trainer.h).
#include "core/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "core/train/gemm_slices.h"
#include "core/train/soft_targets.h"
#include "core/train/training_graph.h"
#include "core/util/parallel.h"
#include "core/util/rng.h"

namespace cwb::train {
namespace {

using Clock = std::chrono::steady_clock;

int argmax(const float* v, int n) { return static_cast<int>(std::max_element(v, v + n) - v); }

Evaluation evaluateGraph(TrainingGraph& graph, const Dataset& data, int threads, int batchSize,
                         int limit, const std::function<void()>& poll) {
    const int n = limit > 0 ? std::min(limit, data.size()) : data.size();
    const int classes = static_cast<int>(graph.outputSize());
    StepContext ctx;
    ctx.threads = threads;
    Evaluation result;
    double lossSum = 0.0;
    int correct = 0;
    for (int start = 0; start < n; start += batchSize) {
        const int count = std::min(batchSize, n - start);
        const float* logits = graph.forward(data.image(start), count, ctx);
        for (int i = 0; i < count; ++i) {
            const int label = data.labels[start + i];
            lossSum += crossEntropyWithLogits(logits + static_cast<std::size_t>(i) * classes,
                                              classes, label, nullptr);
            correct += argmax(logits + static_cast<std::size_t>(i) * classes, classes) == label;
        }
        if (poll) poll();
    }
    result.samples = n;
    result.loss = n ? lossSum / n : 0.0;
    result.accuracy = n ? double(correct) / n : 0.0;
    return result;
}

}  // namespace

void checkDataFits(long long inputs, long long outputs, const Model& model, const Dataset& data) {
    if (inputs != data.pixelsPerImage())
        throw Error(model.sourcePath + ": the model takes " + std::to_string(inputs) +
                    " inputs per sample (" + shapeToString(model.inputShape) + ") but " +
                    data.name + " has " + std::to_string(data.rows) + "x" +
                    std::to_string(data.cols) + " images");
    if (outputs != data.classes)
        throw Error(model.sourcePath + ": the model has " + std::to_string(outputs) +
                    " outputs but " + data.name + " has " + std::to_string(data.classes) +
                    " classes");
}

std::vector<int> epochOrder(int n, std::uint64_t seed, int epoch) {
    std::vector<int> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    // Fisher-Yates with our own generator: the order is the same on every standard library.
    Rng rng(deriveSeed(seed, 0x5eed0000ull + static_cast<std::uint64_t>(epoch)));
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    return order;
}

void checkTrainOptions(const TrainOptions& options, const Dataset& train) {
    if (options.epochs < 1)
        throw Error("epochs must be at least 1, got " + std::to_string(options.epochs));
    if (options.batchSize < 1)
        throw Error("batch size must be at least 1, got " + std::to_string(options.batchSize));
    if (!(options.optimizer.learningRate > 0.0))
        throw Error("learning rate must be positive, got " +
                    std::to_string(options.optimizer.learningRate));
    if (train.size() == 0) throw Error(train.name + " has no samples to train on");
    const SoftTargets& soft = options.distill;
    if (!(soft.weight >= 0.0 && soft.weight <= 1.0))
        throw Error("the distillation weight must be in [0, 1], got " +
                    std::to_string(soft.weight));
    if (soft.weight > 0.0 && !(soft.temperature > 0.0))
        throw Error("the temperature must be positive, got " + std::to_string(soft.temperature));
}

void checkTeacherFits(const SoftTargets& soft, int classes) {
    if (soft.weight > 0.0 && (!soft.teacherLogits || soft.classes != classes))
        throw Error("the teacher has " + std::to_string(soft.classes) +
                    " outputs but the student has " + std::to_string(classes) +
                    "; both must classify the same " + std::to_string(classes) + " classes");
}

TrainResult trainModel(Model& model, const Dataset& train, const Dataset* test,
                       const TrainOptions& options, const TrainCallbacks& callbacks) {
    checkTrainOptions(options, train);
    const SoftTargets& soft = options.distill;
    const bool distilling = soft.weight > 0.0;

    TrainingGraph graph(model);
    checkDataFits(graph.inputSize(), graph.outputSize(), model, train);
    if (test) checkDataFits(graph.inputSize(), graph.outputSize(), model, *test);
    const int classes = static_cast<int>(graph.outputSize());
    checkTeacherFits(soft, classes);

    const int threads = resolveThreads(options.threads);
    BlasThreadsScope blasThreads(1);  // our slices call BLAS concurrently
    Optimizer optimizer(graph.parameters(), options.optimizer);

    const int n = train.size();
    const int pixels = train.pixelsPerImage();
    const int batches = (n + options.batchSize - 1) / options.batchSize;
    const long long totalBatches = static_cast<long long>(batches) * options.epochs;
    std::vector<int> order;
    std::vector<float> images(static_cast<std::size_t>(options.batchSize) * pixels);
    std::vector<float> dLogits(static_cast<std::size_t>(options.batchSize) * classes);
    TrainResult result;
    long long done = 0;
    auto poll = [&] { callbacks.progress.step(done, totalBatches); };

    for (int epoch = 1; epoch <= options.epochs; ++epoch) {
        order = epochOrder(n, options.seed, epoch);
        double lossSum = 0.0;
        int correct = 0;
        const auto start = Clock::now();
        for (int b = 0; b < batches; ++b) {
            const int first = b * options.batchSize;
            const int count = std::min(options.batchSize, n - first);
            for (int i = 0; i < count; ++i)
                std::memcpy(images.data() + static_cast<std::size_t>(i) * pixels,
                            train.image(order[first + i]), sizeof(float) * pixels);
            StepContext ctx;
            ctx.training = true;
            ctx.threads = threads;
            ctx.stepSeed = deriveSeed(options.seed, (static_cast<std::uint64_t>(epoch) << 32) + b);
            const float* logits = graph.forward(images.data(), count, ctx);
            const double inv = 1.0 / count;
            for (int i = 0; i < count; ++i) {
                const int sample = order[first + i];
                const int label = train.labels[sample];
                const float* z = logits + static_cast<std::size_t>(i) * classes;
                float* g = dLogits.data() + static_cast<std::size_t>(i) * classes;
                lossSum +=
                    distilling
                        ? distillationLoss(
                              z, soft.teacherLogits + static_cast<std::size_t>(sample) * classes,
                              classes, label, soft.temperature, soft.weight, g)
                        : crossEntropyWithLogits(z, classes, label, g);
                correct += argmax(z, classes) == label;
                for (int c = 0; c < classes; ++c)
                    g[c] = static_cast<float>(g[c] * inv);  // mean over the batch
            }
            graph.backward(dLogits.data(), count, ctx);
            optimizer.step(threads);
            ++done;
            const long long seen = static_cast<long long>(first) + count;
            if (!std::isfinite(lossSum))
                throw Error(model.sourcePath +
                            ": training diverged (loss is not finite) in epoch " +
                            std::to_string(epoch) + "; lower the learning rate");
            if (callbacks.onBatch) {
                BatchReport report{epoch,          options.epochs,        b + 1, batches, seen,
                                   lossSum / seen, double(correct) / seen};
                callbacks.onBatch(report);
            }
            poll();
        }
        EpochReport report;
        report.epoch = epoch;
        report.epochs = options.epochs;
        report.trainSeconds = std::chrono::duration<double>(Clock::now() - start).count();
        report.imagesPerSecond = n / std::max(report.trainSeconds, 1e-9);
        report.trainLoss = lossSum / n;
        report.trainAccuracy = double(correct) / n;
        report.testLoss = report.testAccuracy = std::numeric_limits<double>::quiet_NaN();
        if (test) {
            const Evaluation e = evaluateGraph(graph, *test, threads, options.evalBatchSize,
                                               options.evalLimit, poll);
            report.testLoss = e.loss;
            report.testAccuracy = e.accuracy;
            report.testSamples = e.samples;
        }
        result.epochs.push_back(report);
        if (callbacks.onEpoch) callbacks.onEpoch(report);
    }
    return result;
}

Evaluation evaluateModel(const Model& model, const Dataset& data, int threads, int limit,
                         const Progress& progress) {
    Model copy = model;  // the graph replaces the copy's tensors with its own clones
    TrainingGraph graph(copy);
    checkDataFits(graph.inputSize(), graph.outputSize(), copy, data);
    threads = resolveThreads(threads);
    BlasThreadsScope blasThreads(1);
    const int n = limit > 0 ? std::min(limit, data.size()) : data.size();
    int done = 0;
    constexpr int kBatch = 128;
    return evaluateGraph(graph, data, threads, kBatch, limit, [&] {
        done = std::min(n, done + kBatch);
        progress.step(done, n);
    });
}

}  // namespace cwb::train
