// Mini-batch training of a Model on a labelled data set, with optional distillation from
// a teacher's cached logits. Deterministic for a given seed and thread count; reports after
// every batch and every epoch; cancellable through the Progress callback after any batch.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/io/idx_dataset.h"
#include "core/model/model.h"
#include "core/train/optimizer.h"
#include "core/util/progress.h"

namespace cwb::train {

// Distillation targets: the teacher's logits (before its softmax) for every training
// sample, in the data set's order. weight = 0 trains on the labels alone.
struct SoftTargets {
    const float* teacherLogits = nullptr;  // train.size() * classes floats
    int classes = 0;
    double temperature = 1.0;
    double weight = 0.0;  // lambda in  lambda T^2 KL(p_t || p_s) + (1 - lambda) CE(y, p_s)
};

struct TrainOptions {
    int epochs = 5;
    int batchSize = 64;
    OptimizerOptions optimizer;
    std::uint64_t seed = 1;   // shuffling and dropout (initial weights come with the model)
    int threads = 0;          // 0 = all cores
    int evalBatchSize = 128;  // small: the graph keeps its largest batch's buffers
    int evalLimit = 0;        // evaluate on the first evalLimit test samples (0 = all)
    SoftTargets distill;
};

// After every batch. Loss and accuracy are running means over the epoch so far.
struct BatchReport {
    int epoch = 0, epochs = 0;   // epoch counts from 1
    int batch = 0, batches = 0;  // batch counts from 1, within the epoch
    long long samplesSeen = 0;   // within the epoch
    double loss = 0.0, accuracy = 0.0;
};

// After every epoch; test figures are NaN when no test set was given.
struct EpochReport {
    int epoch = 0, epochs = 0;
    double trainLoss = 0.0, trainAccuracy = 0.0;  // running means over the epoch's batches
    double testLoss = 0.0, testAccuracy = 0.0;    // cross-entropy on the labels, inference mode
    int testSamples = 0;
    double trainSeconds = 0.0;     // the epoch's batches only
    double imagesPerSecond = 0.0;  // training throughput of the epoch
};

struct TrainCallbacks {
    // (batches done, total batches of the run) after every batch, and unchanged during the
    // end-of-epoch evaluation; returning false cancels (trainModel throws cwb::Cancelled and
    // the model keeps the weights of the last finished batch).
    Progress progress;
    std::function<void(const BatchReport&)> onBatch;
    std::function<void(const EpochReport&)> onEpoch;
};

struct TrainResult {
    std::vector<EpochReport> epochs;
};

// Trains `model` in place. test may be null. Throws cwb::Error when the model does not
// fit the data (input size, classes) or has a layer training does not support.
TrainResult trainModel(Model& model, const Dataset& train, const Dataset* test,
                       const TrainOptions& options, const TrainCallbacks& callbacks = {});

// ---- shared by every backend's training (the CPU's trainModel above, core/backend/cuda) ----

// Throws cwb::Error, as trainModel does, for options that cannot train (epochs, batch size,
// learning rate, distillation weight and temperature) or an empty training set.
void checkTrainOptions(const TrainOptions& options, const Dataset& train);
// Throws cwb::Error when a model of `inputs` inputs and `outputs` outputs does not fit `data`.
void checkDataFits(long long inputs, long long outputs, const Model& model, const Dataset& data);
// Throws cwb::Error when distilling (weight > 0) without the student's `classes` teacher logits.
void checkTeacherFits(const SoftTargets& soft, int classes);
// The sample order of `epoch` (from 1): a Fisher-Yates shuffle of 0..n-1 from the run's seed,
// the same on every standard library.
std::vector<int> epochOrder(int n, std::uint64_t seed, int epoch);

struct Evaluation {
    int samples = 0;
    double loss = 0.0;      // mean cross-entropy
    double accuracy = 0.0;  // a fraction
};

// The model's own forward pass (inference mode) over a data set: what trainModel reports.
// limit > 0 evaluates the first `limit` samples. Parameters are copied first, so the model
// (and any model sharing its tensors) is not modified.
Evaluation evaluateModel(const Model& model, const Dataset& data, int threads = 0, int limit = 0,
                         const Progress& progress = {});

}  // namespace cwb::train
