// How the CPU engines walk a model over one thread's slice of images. The head (convolutions
// and pooling, whose activations are large) runs a chunk of a few images at a time, so that
// its activations stay in L2; its outputs collect in a feature buffer, and the tail (Dense
// layers on small vectors) then runs on a group of many images at once, because a GEMM with
// a handful of rows wastes most of its time.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "core/infer/plan.h"

namespace cwb {

// Runs items [first, last) on a batch, each reading what the previous one wrote: the first
// reads `input`, the last writes `output`, and those between alternate between the two scratch
// buffers. run(i, in, out) runs item i.
template <typename Run>
void runChain(std::size_t first, std::size_t last, const float* input, float* output, float* ping,
              float* pong, Run&& run) {
    const float* in = input;
    for (std::size_t i = first; i < last; ++i) {
        float* out = i + 1 == last ? output : (in == ping ? pong : ping);
        run(i, in, out);
        in = out;
    }
}

struct StageSizes {
    long long input = 0, output = 0;  // floats per image
};

// One stage per op of the plan.
std::vector<StageSizes> stageSizes(const Plan& plan);

struct Staging {
    std::size_t split = 0;        // stages [0, split) are the head, the rest the tail
    int chunk = 1;                // head images per pass
    int group = 1;                // tail images per pass
    long long headFloats = 1;     // per image: the largest head activation, the input included
    long long tailFloats = 1;     // per image: the largest tail activation
    long long featureFloats = 0;  // per image: what the head hands the tail (0 if one is empty)

    // The staging of a model's stages; chunkImages > 0 fixes the head chunk.
    static Staging of(const std::vector<StageSizes>& stages, long long inputFloats,
                      int chunkImages = 0);
    // Every image in one pass of each part (one thread running a whole batch at once).
    static Staging wholeBatch(const std::vector<StageSizes>& stages, long long inputFloats,
                              int images);

    // Floats for each of the two ping-pong activation buffers, and for the feature buffer.
    std::size_t activationBufferFloats() const;
    std::size_t featureBufferFloats() const;

    // Runs n images (n may exceed group) through all `stageCount` stages:
    // runStages(begin, end, in, images, out) runs stages [begin, end) on `images` images.
    using RunStages = std::function<void(std::size_t begin, std::size_t end, const float* in,
                                         int images, float* out)>;
    void run(std::size_t stageCount, long long inputFloats, long long outputFloats,
             const float* input, int n, float* output, float* features,
             const RunStages& runStages) const;
};

}  // namespace cwb
