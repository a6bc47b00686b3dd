// Head/tail staging of the CPU engines (see staging.h).
#include "core/infer/staging.h"

#include <algorithm>

namespace cwb {
namespace {

// Activations of one head chunk (two buffers of it) should stay within a core's L2.
constexpr long long kChunkBytes = 512 * 1024;
constexpr int kMinChunk = 4, kMaxChunk = 128;
// Stages whose inputs and outputs are all at most this many floats per image form the tail.
constexpr long long kTailMaxFloats = 4096;
constexpr int kTailGroup = 128;

long long largest(const std::vector<StageSizes>& stages, std::size_t begin, std::size_t end) {
    long long n = 1;
    for (std::size_t i = begin; i < end; ++i) n = std::max({n, stages[i].input, stages[i].output});
    return n;
}

Staging shape(const std::vector<StageSizes>& stages, long long inputFloats) {
    Staging s;
    s.split = stages.size();
    while (s.split > 0 && stages[s.split - 1].input <= kTailMaxFloats &&
           stages[s.split - 1].output <= kTailMaxFloats)
        --s.split;
    s.headFloats = std::max(largest(stages, 0, s.split), inputFloats);
    s.tailFloats = largest(stages, s.split, stages.size());
    if (s.split > 0 && s.split < stages.size()) s.featureFloats = stages[s.split].input;
    return s;
}

}  // namespace

std::vector<StageSizes> stageSizes(const Plan& plan) {
    std::vector<StageSizes> stages;
    for (const PlanOp& op : plan.ops) stages.push_back({op.inputSize, op.outputSize});
    return stages;
}

Staging Staging::of(const std::vector<StageSizes>& stages, long long inputFloats, int chunkImages) {
    Staging s = shape(stages, inputFloats);
    s.chunk = chunkImages > 0 ? chunkImages
                              : static_cast<int>(std::clamp<long long>(
                                    kChunkBytes / (s.headFloats * 4), kMinChunk, kMaxChunk));
    s.group = s.split == stages.size() ? s.chunk : std::max(kTailGroup, s.chunk);
    return s;
}

Staging Staging::wholeBatch(const std::vector<StageSizes>& stages, long long inputFloats,
                            int images) {
    Staging s = shape(stages, inputFloats);
    s.chunk = s.group = std::max(images, 1);
    return s;
}

std::size_t Staging::activationBufferFloats() const {
    return static_cast<std::size_t>(std::max(headFloats * chunk, tailFloats * group));
}

std::size_t Staging::featureBufferFloats() const {
    return static_cast<std::size_t>(featureFloats * group);
}

void Staging::run(std::size_t stageCount, long long inputFloats, long long outputFloats,
                  const float* input, int n, float* output, float* features,
                  const RunStages& runStages) const {
    for (int g0 = 0; g0 < n; g0 += group) {
        const int groupSize = std::min(group, n - g0);
        const float* tailInput = input + g0 * inputFloats;
        if (split > 0) {
            const bool headOnly = split == stageCount;
            for (int c0 = g0; c0 < g0 + groupSize; c0 += chunk) {
                const int images = std::min(chunk, g0 + groupSize - c0);
                float* out =
                    headOnly ? output + c0 * outputFloats : features + (c0 - g0) * featureFloats;
                runStages(0, split, input + c0 * inputFloats, images, out);
            }
            tailInput = features;
        }
        if (split < stageCount)
            runStages(split, stageCount, tailInput, groupSize, output + g0 * outputFloats);
    }
}

}  // namespace cwb
