// The forward pass of a Llama-family model on the CPU: RMSNorm, RoPE in either layout,
// grouped-query attention with a causal mask over a KV cache, SwiGLU, tied or untied output.
// A call runs a batch of tokens at once (prefill: every product is matrix-matrix) and
// appends their keys and values to the cache, so generation is the same call with one token.
// Deterministic for a thread count. Weights stay in their dtype; products go through linear().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "core/llm/llama_config.h"
#include "core/llm/llama_runner.h"
#include "core/llm/llama_weights.h"
#include "core/util/worker_pool.h"

namespace cwb {

// Whether weights in a mapped file stay in the process's resident set after a layer used
// them. Dropping them (they stay in the page cache) keeps the peak resident memory of a
// pass over a checkpoint near one layer's weights, at the cost of mapping pages again on
// the next call. Auto drops them when the mapped weights exceed half the physical memory.
enum class ResidentWeights { Auto, Keep, Release };

struct ForwardOptions {
    int threads = 0;        // 0 = all cores
    int contextLength = 0;  // KV cache capacity in tokens; 0 = the model's maxSequence or 2048
    // Checked before every layer; returning true stops the call with Cancelled.
    std::function<bool()> cancel;
    ResidentWeights resident = ResidentWeights::Auto;
};

// True when `weights` held in mapped files take more than half of the physical memory.
bool weightsCrowdMemory(const LlamaWeights& weights);

// Throws cwb::Error naming the first tensor whose shape or dtype does not fit the config, or
// the config's own inconsistency (heads not a multiple of kv heads, an odd head size ...).
void validateLlama(const LlamaConfig& config, const LlamaWeights& weights);

class LlamaForward final : public LlamaRunner {
public:
    // Keeps a copy of `weights` (views: cheap) and the config. Validates both.
    LlamaForward(const LlamaConfig& config, const LlamaWeights& weights,
                 const ForwardOptions& options = {});
    ~LlamaForward();
    LlamaForward(const LlamaForward&) = delete;
    LlamaForward& operator=(const LlamaForward&) = delete;

    const LlamaConfig& config() const override { return m_config; }
    std::string device() const override { return "cpu"; }
    int threads() const { return m_pool.threads(); }
    int position() const override { return m_position; }
    int capacity() const override { return m_capacity; }
    void reset() override { m_position = 0; }
    double readBandwidth() const override;
    // See LlamaRunner::forward.
    void forward(std::span<const std::int32_t> tokens, int logitsFrom, int logitsTo,
                 std::vector<float>& logits) override;

private:
    void attention(int layer, int tokens);
    void addInto(float* x, const float* y, std::size_t n);
    void elementwise(std::size_t n, const std::function<void(std::size_t, std::size_t)>& body);
    // Rows [0, rows) of work touching `floats` values: on the pool when that is large.
    void runRows(long long rows, std::size_t floats,
                 const std::function<void(long long, long long)>& body);
    void rmsNorm(const float* x, const std::vector<float>& weight, int rows, float* out);
    void rope(float* rows, int tokens, int stride, int heads);

    LlamaConfig m_config;
    LlamaWeights m_weights;
    ForwardOptions m_options;
    WorkerPool& m_pool;  // the process's pool for this thread count
    int m_capacity = 0;
    int m_position = 0;
    bool m_release = false;      // drop mapped weights from the resident set after use
    bool m_interleaved = false;  // Q4_0, Q4_K matrices in quant::interleaveRows' layout
    std::vector<std::vector<float>> m_attnNorm, m_ffnNorm;
    std::vector<float> m_finalNorm;
    std::vector<float> m_cos, m_sin;                   // [capacity, headDim / 2]
    std::vector<std::vector<float>> m_keys, m_values;  // per layer [capacity, kvHeads * headDim]
    std::vector<float> m_x, m_xn, m_q, m_attn, m_tmp, m_gate, m_up;
};

}  // namespace cwb
