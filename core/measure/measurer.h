// The one path from settings to figures: compress, build the engine, evaluate. The window's
// worker lanes (accuracy, baseline, sweep, sensitivity) and `cwb sweep` all measure through
// a Measurer, so they cannot disagree on how a figure is made.
//
// A Measurer belongs to one model and one labelled data set. Before its first timed run it
// warms the engine path once (one batch through the float32 engine: thread start-up, first
// touches of the data and the weights), so no first row of a sweep and no first accuracy
// pays for that in its latency. Every method is const and may run on any thread; the
// warm-up happens once however many threads ask.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/compress/compress_model.h"
#include "core/infer/compressed_engine.h"
#include "core/io/idx_dataset.h"
#include "core/model/model.h"
#include "core/util/progress.h"

namespace cwb {

class Backend;

struct MeasurerOptions {
    int threads = 0;      // compression and engines; 0 = all cores
    int batchSize = 250;  // one batch size for every measurement, so latencies compare
    int chunk = 1000;     // a running accuracy after every `chunk` samples
    StatsOptions stats;   // compression statistics (histograms are never made here)
    std::shared_ptr<const WeightProfile> profile;  // of the same model; optional, only faster
    Backend* backend = nullptr;  // runs compression and engines (core/backend); null: the CPU
};

// Which engine runs a model: the float32 engine, or the compressed-model engine with a
// kernel choice over the compression's grids (without grids: the float32 engine).
struct EngineChoice {
    KernelChoice kernels = KernelChoice::Float;
    const std::vector<KernelGrid>* grids = nullptr;
};

// An accuracy, running (after a chunk) or final.
struct Accuracy {
    int samples = 0;  // evaluated so far
    int correct = 0;
    int total = 0;                     // samples the measurement covers when done
    double seconds = 0.0;              // wall time of the forward passes only
    std::string engine;                // the engine's name(), e.g. "cpu float32"
    std::vector<LayerKernel> kernels;  // the compressed engine's path per layer (else empty)

    double fraction() const { return samples ? double(correct) / samples : 0.0; }
    double msPerSample() const { return samples ? 1000.0 * seconds / samples : 0.0; }
    bool done() const { return samples >= total; }
};

// A compression and its accuracy.
struct Measurement {
    CompressionPlan plan;
    std::vector<LayerStats> layers;  // without histograms
    ModelStats total;
    Accuracy accuracy;
};

class Measurer {
public:
    Measurer(std::shared_ptr<const Model> model, std::shared_ptr<const Dataset> data,
             MeasurerOptions options = {});
    Measurer(const Measurer&) = delete;
    Measurer& operator=(const Measurer&) = delete;

    const Model& model() const { return *m_model; }
    const Dataset& data() const { return *m_data; }
    const MeasurerOptions& options() const { return m_options; }
    // How many samples a measurement with `limit` covers (0 = the whole data set).
    int samplesFor(int limit) const;

    // Accuracy of `model` (this Measurer's model or a compression of it) on the first
    // `limit` samples, chunk by chunk: `onChunk` (may be empty) receives the running figures
    // after every chunk, the last call being the final result; `progress` gets (samples
    // done, samples total) after every batch and cancels (Cancelled) when it returns false.
    // Throws cwb::Error when the model cannot run or does not fit the data.
    Accuracy accuracy(const Model& model, const EngineChoice& engine, int limit = 0,
                      const Progress& progress = {},
                      const std::function<void(const Accuracy&)>& onChunk = {}) const;

    // Compresses this Measurer's model with `plan` (statistics without histograms;
    // exactLevels false skips counting the levels of float32 tensors), checking `progress`
    // for a cancel without reporting.
    CompressionResult compress(const CompressionPlan& plan, const Progress& progress = {},
                               bool exactLevels = true) const;

    // compress(plan), then accuracy() of the result with `kernels` over its grids.
    // Progress counts the evaluation's samples.
    Measurement measure(const CompressionPlan& plan, KernelChoice kernels, int limit = 0,
                        const Progress& progress = {}, bool exactLevels = true) const;

private:
    void warmUp() const;

    std::shared_ptr<const Model> m_model;
    std::shared_ptr<const Dataset> m_data;
    MeasurerOptions m_options;
    mutable std::once_flag m_warm;
};

// A progress that only passes a caller's cancel on, reporting `done` of `total` each time:
// for a phase (a compression) whose own counts mean nothing to the caller.
Progress cancelOnly(const Progress& progress, long long done, long long total);

}  // namespace cwb
