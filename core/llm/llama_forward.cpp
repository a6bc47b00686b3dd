// The Llama forward pass; see llama_forward.h.
#include "core/llm/llama_forward.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/infer/cpu/gemm.h"
#include "core/llm/linear.h"
#include "core/llm/llm_speed.h"
#include "core/quant/quant_rows.h"
#include "core/util/mapped_file.h"
#include "core/util/memory.h"

namespace cwb {

namespace {

// Query rows per attention task: bounds the score scratch and gives the pool enough tasks.
constexpr int kQueryBlock = 64;
constexpr int kDefaultContext = 2048;
// Work below these sizes runs on the calling thread (waking the pool costs more): elements
// of element-wise steps, floats touched by norms and RoPE, multiply-adds of attention.
constexpr std::size_t kParallelElements = 1 << 14;
constexpr double kParallelAttention = 1 << 18;

void checkTensor(const Tensor& t, const Shape& want, const std::string& what, bool matrix) {
    if (t.empty()) throw Error("Llama weights: " + what + " is missing");
    if (t.shape() != want)
        throw Error("Llama weights: " + what + " has shape " + shapeToString(t.shape()) +
                    " where the model's config needs " + shapeToString(want));
    const bool plain =
        t.dtype() == DType::F32 || t.dtype() == DType::F16 || t.dtype() == DType::BF16;
    if (matrix ? !linearSupports(t.dtype()) : !plain)
        throw Error("Llama weights: " + what + " is of type " + dtypeName(t.dtype()) +
                    ", which the forward pass cannot use");
}

float silu(float x) { return x / (1.f + std::exp(-x)); }

void releaseBlock(const LlamaBlockWeights& b) {
    for (const Tensor* t : {&b.q, &b.k, &b.v, &b.o, &b.gate, &b.up, &b.down}) releaseResident(*t);
}

}  // namespace

bool weightsCrowdMemory(const LlamaWeights& w) {
    std::uint64_t mapped = mappedBytes(w.embedding) + mappedBytes(w.output);
    for (const auto& b : w.blocks)
        for (const Tensor* t : {&b.q, &b.k, &b.v, &b.o, &b.gate, &b.up, &b.down})
            mapped += mappedBytes(*t);
    return mapped > physicalMemoryBytes() / 2;
}

void validateLlama(const LlamaConfig& c, const LlamaWeights& w) {
    if (c.hiddenSize <= 0 || c.intermediateSize <= 0 || c.layers <= 0 || c.heads <= 0 ||
        c.kvHeads <= 0 || c.headDim <= 0 || c.vocabSize <= 0)
        throw Error("Llama config: sizes must be positive (hidden " + std::to_string(c.hiddenSize) +
                    ", layers " + std::to_string(c.layers) + ", heads " + std::to_string(c.heads) +
                    ")");
    if (c.heads % c.kvHeads != 0)
        throw Error("Llama config: " + std::to_string(c.heads) +
                    " attention heads are not a multiple of " + std::to_string(c.kvHeads) +
                    " key/value heads");
    if (c.headDim % 2 != 0)
        throw Error("Llama config: head size " + std::to_string(c.headDim) +
                    " is odd; RoPE needs pairs");
    if (!(c.rmsNormEps >= 0.f) || !(c.ropeTheta > 0.f))
        throw Error("Llama config: RMSNorm epsilon and RoPE theta must be positive");
    const std::int64_t h = c.hiddenSize, q = std::int64_t(c.heads) * c.headDim,
                       kv = std::int64_t(c.kvHeads) * c.headDim, f = c.intermediateSize,
                       vocab = c.vocabSize;
    checkTensor(w.embedding, {vocab, h}, "the token embedding", true);
    checkTensor(w.finalNorm, {h}, "the final norm", false);
    checkTensor(w.output, {vocab, h}, "the output matrix", true);
    if (w.blocks.size() != static_cast<std::size_t>(c.layers))
        throw Error("Llama weights: " + std::to_string(w.blocks.size()) +
                    " blocks where the config says " + std::to_string(c.layers) + " layers");
    for (int i = 0; i < c.layers; ++i) {
        const LlamaBlockWeights& b = w.blocks[static_cast<std::size_t>(i)];
        const std::string layer = "layer " + std::to_string(i) + " ";
        checkTensor(b.attnNorm, {h}, layer + "attention norm", false);
        checkTensor(b.q, {q, h}, layer + "q projection", true);
        checkTensor(b.k, {kv, h}, layer + "k projection", true);
        checkTensor(b.v, {kv, h}, layer + "v projection", true);
        checkTensor(b.o, {h, q}, layer + "o projection", true);
        checkTensor(b.ffnNorm, {h}, layer + "feed-forward norm", false);
        checkTensor(b.gate, {f, h}, layer + "gate projection", true);
        checkTensor(b.up, {f, h}, layer + "up projection", true);
        checkTensor(b.down, {h, f}, layer + "down projection", true);
    }
}

LlamaForward::LlamaForward(const LlamaConfig& config, const LlamaWeights& weights,
                           const ForwardOptions& options)
    : m_config(config),
      m_weights(weights),
      m_options(options),
      m_pool(WorkerPool::shared(options.threads)) {
    validateLlama(m_config, m_weights);
    m_release = options.resident == ResidentWeights::Release ||
                (options.resident == ResidentWeights::Auto && weightsCrowdMemory(m_weights));
    // The block matrices and the output in a block format are copied once, here, into memory
    // on 2 MB pages: generation streams them once a token, and the mapped file's 4 KB pages
    // cost a translation miss and a stop of the hardware prefetch every 4 KB (Q4_0 generation
    // read 10 % faster from the copy). Q4_0 and Q4_K are interleaved by eight rows in the
    // copy, for generation's kernels (one activation load for eight rows). The copy replaces
    // the rows: mapped pages are dropped from the resident set and not read again (but a tied
    // output's, which the embedding lookups read). Not where weights crowd memory, which the
    // copy would double. Float rows stay mapped (their reads prefetch 4 KB ahead).
    if (!m_release) {
        const bool tied = m_weights.output.bytes() == m_weights.embedding.bytes();
        std::vector<Tensor*> matrices{&m_weights.output};
        for (LlamaBlockWeights& b : m_weights.blocks)
            matrices.insert(matrices.end(), {&b.q, &b.k, &b.v, &b.o, &b.gate, &b.up, &b.down});
        for (Tensor* t : matrices) {
            if (!dtypeIsBlock(t->dtype())) continue;  // float rows stay mapped
            const bool interleave = quant::hasInterleavedRows(t->dtype());
            Tensor copy = interleave ? interleavedRows(*t) : hugePageCopy(*t);
            if (t != &m_weights.output || !tied) releaseResident(*t);
            *t = std::move(copy);
            m_interleaved = m_interleaved || interleave;
        }
    }
    m_capacity = options.contextLength > 0  ? options.contextLength
                 : m_config.maxSequence > 0 ? m_config.maxSequence
                                            : kDefaultContext;
    for (const auto& b : m_weights.blocks) {
        m_attnNorm.push_back(b.attnNorm.toFloatVector());
        m_ffnNorm.push_back(b.ffnNorm.toFloatVector());
    }
    m_finalNorm = m_weights.finalNorm.toFloatVector();

    // RoPE angles in double, rounded once: pos * theta^(-2i / d).
    const int half = m_config.headDim / 2;
    m_cos.resize(static_cast<std::size_t>(m_capacity) * half);
    m_sin.resize(m_cos.size());
    for (int i = 0; i < half; ++i) {
        const double frequency =
            std::pow(static_cast<double>(m_config.ropeTheta), -2.0 * i / m_config.headDim);
        for (int p = 0; p < m_capacity; ++p) {
            const double angle = p * frequency;
            m_cos[static_cast<std::size_t>(p) * half + i] = static_cast<float>(std::cos(angle));
            m_sin[static_cast<std::size_t>(p) * half + i] = static_cast<float>(std::sin(angle));
        }
    }
    const std::size_t kvFloats =
        static_cast<std::size_t>(m_capacity) * m_config.kvHeads * m_config.headDim;
    ensureFitsInMemory(2 * kvFloats * m_config.layers * sizeof(float),
                       "a KV cache of " + std::to_string(m_capacity) + " tokens");
    m_keys.assign(static_cast<std::size_t>(m_config.layers), std::vector<float>(kvFloats));
    m_values.assign(static_cast<std::size_t>(m_config.layers), std::vector<float>(kvFloats));
}

LlamaForward::~LlamaForward() = default;

double LlamaForward::readBandwidth() const { return measureReadBandwidth(m_pool.threads()); }

void LlamaForward::elementwise(std::size_t n,
                               const std::function<void(std::size_t, std::size_t)>& body) {
    if (n < kParallelElements) {
        body(0, n);
        return;
    }
    m_pool.run(static_cast<long long>(n), [&](long long begin, long long end, int) {
        body(static_cast<std::size_t>(begin), static_cast<std::size_t>(end));
    });
}

void LlamaForward::runRows(long long rows, std::size_t floats,
                           const std::function<void(long long, long long)>& body) {
    if (floats < kParallelElements) {
        body(0, rows);
        return;
    }
    m_pool.run(rows, [&](long long begin, long long end, int) { body(begin, end); });
}

void LlamaForward::addInto(float* x, const float* y, std::size_t n) {
    elementwise(n, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) x[i] += y[i];
    });
}

void LlamaForward::rmsNorm(const float* x, const std::vector<float>& weight, int rows, float* out) {
    const int h = m_config.hiddenSize;
    const float eps = m_config.rmsNormEps;
    runRows(rows, static_cast<std::size_t>(rows) * h, [&](long long begin, long long end) {
        for (long long r = begin; r < end; ++r) {
            const float* in = x + r * h;
            float* o = out + r * h;
            double sum = 0.0;
            for (int i = 0; i < h; ++i) sum += static_cast<double>(in[i]) * in[i];
            const float scale = 1.f / std::sqrt(static_cast<float>(sum / h) + eps);
            for (int i = 0; i < h; ++i)
                o[i] = weight[static_cast<std::size_t>(i)] * (in[i] * scale);
        }
    });
}

// Rotates `heads` heads of `tokens` rows (each `stride` floats apart) at positions
// m_position + t.
void LlamaForward::rope(float* rows, int tokens, int stride, int heads) {
    const int d = m_config.headDim, half = d / 2;
    const bool adjacent = m_config.rope == RopeLayout::AdjacentPairs;
    runRows(tokens, static_cast<std::size_t>(tokens) * heads * d,
            [&](long long begin, long long end) {
                for (long long t = begin; t < end; ++t) {
                    const std::size_t p = static_cast<std::size_t>(m_position + t);
                    const float* c = m_cos.data() + p * half;
                    const float* s = m_sin.data() + p * half;
                    for (int hd = 0; hd < heads; ++hd) {
                        float* v = rows + t * stride + hd * d;
                        for (int i = 0; i < half; ++i) {
                            const int a = adjacent ? 2 * i : i;
                            const int b = adjacent ? 2 * i + 1 : i + half;
                            const float x0 = v[a], x1 = v[b];
                            v[a] = x0 * c[i] - x1 * s[i];
                            v[b] = x1 * c[i] + x0 * s[i];
                        }
                    }
                }
            });
}

void LlamaForward::attention(int layer, int tokens) {
    const int d = m_config.headDim, heads = m_config.heads;
    const int qDim = heads * d, kvDim = m_config.kvHeads * d;
    const int group = heads / m_config.kvHeads;
    const int blocks = (tokens + kQueryBlock - 1) / kQueryBlock;
    const float scale = 1.f / std::sqrt(static_cast<float>(d));
    const float* keys = m_keys[static_cast<std::size_t>(layer)].data();
    const float* values = m_values[static_cast<std::size_t>(layer)].data();
    const long long tasks = static_cast<long long>(heads) * blocks;
    const double macs = 2.0 * heads * tokens * (m_position + tokens) * d;
    const auto body = [&](long long begin, long long end, int) {
        thread_local std::vector<float> scores;
        for (long long task = begin; task < end; ++task) {
            const int head = static_cast<int>(task / blocks);
            const int t0 = static_cast<int>(task % blocks) * kQueryBlock;
            const int rows = std::min(kQueryBlock, tokens - t0);
            const int seen = m_position + t0 + rows;  // keys the last row of the block sees
            const int kvHead = head / group;
            scores.resize(static_cast<std::size_t>(rows) * seen);
            cpu::sgemmNT(rows, seen, d, m_q.data() + std::size_t(t0) * qDim + head * d, qDim,
                         keys + kvHead * d, kvDim, scores.data(), seen);
            for (int r = 0; r < rows; ++r) {
                float* s = scores.data() + std::size_t(r) * seen;
                const int valid = m_position + t0 + r + 1;  // the causal mask
                float top = -INFINITY;
                for (int j = 0; j < valid; ++j) top = std::max(top, s[j] *= scale);
                float sum = 0.f;
                for (int j = 0; j < valid; ++j) sum += s[j] = std::exp(s[j] - top);
                const float inv = 1.f / sum;
                for (int j = 0; j < valid; ++j) s[j] *= inv;
                std::fill(s + valid, s + seen, 0.f);
            }
            cpu::sgemm(rows, d, seen, scores.data(), seen, values + kvHead * d, kvDim,
                       m_attn.data() + std::size_t(t0) * qDim + head * d, qDim);
        }
    };
    if (macs < kParallelAttention)
        body(0, tasks, 0);
    else
        m_pool.run(tasks, body);
}

void LlamaForward::forward(std::span<const std::int32_t> tokens, int logitsFrom, int logitsTo,
                           std::vector<float>& logits) {
    const int n = static_cast<int>(tokens.size());
    const LlamaConfig& c = m_config;
    if (logitsFrom < 0 || logitsTo > n || logitsFrom > logitsTo)
        throw Error("Llama forward: logits rows [" + std::to_string(logitsFrom) + ", " +
                    std::to_string(logitsTo) + ") outside the " + std::to_string(n) + " tokens");
    if (n == 0) {
        logits.clear();
        return;
    }
    if (m_position + n > m_capacity)
        throw Error("Llama forward: " + std::to_string(m_position + n) +
                    " tokens exceed the context of " + std::to_string(m_capacity) +
                    "; use a shorter text or a larger context");
    for (const std::int32_t id : tokens)
        if (id < 0 || id >= c.vocabSize)
            throw Error("Llama forward: token id " + std::to_string(id) +
                        " is outside the vocabulary of " + std::to_string(c.vocabSize));

    cpu::setBlasThreads(1);  // attention and linear() call BLAS from the pool's threads
    const std::size_t h = static_cast<std::size_t>(c.hiddenSize);
    const std::size_t qDim = static_cast<std::size_t>(c.heads) * c.headDim;
    const std::size_t kvDim = static_cast<std::size_t>(c.kvHeads) * c.headDim;
    const std::size_t f = static_cast<std::size_t>(c.intermediateSize);
    const std::size_t rows = static_cast<std::size_t>(n);
    m_x.resize(rows * h);
    m_xn.resize(rows * h);
    m_tmp.resize(rows * h);
    m_q.resize(rows * qDim);
    m_attn.resize(rows * qDim);
    m_gate.resize(rows * f);
    m_up.resize(rows * f);

    m_pool.run(n, [&](long long begin, long long end, int) {
        for (long long t = begin; t < end; ++t)
            tensorRowToFloat(m_weights.embedding, tokens[static_cast<std::size_t>(t)],
                             m_x.data() + t * h);
    });
    if (m_release) releaseResident(m_weights.embedding);

    for (int layer = 0; layer < c.layers; ++layer) {
        if (m_options.cancel && m_options.cancel()) throw Cancelled();
        const LlamaBlockWeights& b = m_weights.blocks[static_cast<std::size_t>(layer)];
        float* keys = m_keys[static_cast<std::size_t>(layer)].data() + m_position * kvDim;
        float* values = m_values[static_cast<std::size_t>(layer)].data() + m_position * kvDim;

        rmsNorm(m_x.data(), m_attnNorm[static_cast<std::size_t>(layer)], n, m_xn.data());
        const Tensor* qkv[] = {&b.q, &b.k, &b.v};
        float* qkvOut[] = {m_q.data(), keys, values};
        linearGroup(qkv, m_xn.data(), n, qkvOut, m_pool, m_interleaved);
        rope(m_q.data(), n, static_cast<int>(qDim), c.heads);
        rope(keys, n, static_cast<int>(kvDim), c.kvHeads);
        attention(layer, n);
        linear(b.o, m_attn.data(), n, m_tmp.data(), m_pool, m_interleaved);
        addInto(m_x.data(), m_tmp.data(), rows * h);

        rmsNorm(m_x.data(), m_ffnNorm[static_cast<std::size_t>(layer)], n, m_xn.data());
        const Tensor* gateUp[] = {&b.gate, &b.up};
        float* gateUpOut[] = {m_gate.data(), m_up.data()};
        linearGroup(gateUp, m_xn.data(), n, gateUpOut, m_pool, m_interleaved);
        elementwise(rows * f, [&](std::size_t begin, std::size_t end) {
            for (std::size_t i = begin; i < end; ++i) m_gate[i] = silu(m_gate[i]) * m_up[i];
        });
        linear(b.down, m_gate.data(), n, m_tmp.data(), m_pool, m_interleaved);
        addInto(m_x.data(), m_tmp.data(), rows * h);
        if (m_release) releaseBlock(b);
    }
    m_position += n;

    const int out = logitsTo - logitsFrom;
    logits.resize(static_cast<std::size_t>(out) * c.vocabSize);
    if (out == 0) return;
    rmsNorm(m_x.data() + logitsFrom * h, m_finalNorm, out, m_xn.data());
    linear(m_weights.output, m_xn.data(), out, logits.data(), m_pool, m_interleaved);
    if (m_release) releaseResident(m_weights.output);
}

}  // namespace cwb
