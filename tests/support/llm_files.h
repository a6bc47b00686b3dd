// Builders of small language-model checkpoints for tests and fuzz seeds: GGUF files with any
// metadata and tensors, a tiny Llama in GGUF, safetensors and llama2.c form, each made
// valid and then spoiled by the caller. Header-only so that fuzz/tools can use it too.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace cwb::test::llm {

template <typename T>
void put(std::string& out, T value) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    out.append(bytes, sizeof(T));
}

inline void putString(std::string& out, const std::string& s) {
    put<std::uint64_t>(out, s.size());
    out += s;
}

// GGUF value type ids (GgufType in core/io/gguf.h, written out here so that the builder
// does not depend on the reader it tests).
enum : std::uint32_t {
    kU8 = 0,
    kI32 = 5,
    kF32 = 6,
    kBool = 7,
    kString = 8,
    kArray = 9,
    kU32 = 4,
    kU64 = 10,
};

class GgufBuilder {
public:
    explicit GgufBuilder(std::uint32_t version = 3) : m_version(version) {}

    // A metadata entry from its type and already encoded value.
    GgufBuilder& raw(const std::string& key, std::uint32_t type, const std::string& value) {
        putString(m_kv, key);
        put<std::uint32_t>(m_kv, type);
        m_kv += value;
        ++m_entries;
        return *this;
    }
    GgufBuilder& u32(const std::string& key, std::uint32_t v) { return raw(key, kU32, bytes(v)); }
    GgufBuilder& f32(const std::string& key, float v) { return raw(key, kF32, bytes(v)); }
    GgufBuilder& boolean(const std::string& key, bool v) {
        return raw(key, kBool, std::string(1, v ? '\1' : '\0'));
    }
    GgufBuilder& text(const std::string& key, const std::string& v) {
        std::string s;
        putString(s, v);
        return raw(key, kString, s);
    }
    GgufBuilder& texts(const std::string& key, const std::vector<std::string>& v) {
        std::string s;
        put<std::uint32_t>(s, kString);
        put<std::uint64_t>(s, v.size());
        for (const auto& x : v) putString(s, x);
        return raw(key, kArray, s);
    }
    template <typename T>
    GgufBuilder& numbers(const std::string& key, std::uint32_t elementType,
                         const std::vector<T>& v) {
        std::string s;
        put<std::uint32_t>(s, elementType);
        put<std::uint64_t>(s, v.size());
        for (T x : v) put<T>(s, x);
        return raw(key, kArray, s);
    }

    // A tensor with ggml dims ne (fastest first) and its bytes; placed at the next aligned
    // offset unless `offset` is given.
    GgufBuilder& tensor(const std::string& name, const std::vector<std::uint64_t>& ne,
                        std::uint32_t ggmlType, const std::string& data,
                        std::uint64_t offset = UINT64_MAX) {
        m_tensors.push_back({name, ne, ggmlType, data, offset});
        return *this;
    }

    std::string build(std::uint64_t alignment = 32) const {
        std::string out = "GGUF";
        put<std::uint32_t>(out, m_version);
        put<std::uint64_t>(out, m_tensors.size());
        put<std::uint64_t>(out, m_entries);
        out += m_kv;
        std::string data;
        for (const auto& t : m_tensors) {
            putString(out, t.name);
            put<std::uint32_t>(out, static_cast<std::uint32_t>(t.ne.size()));
            for (auto d : t.ne) put<std::uint64_t>(out, d);
            put<std::uint32_t>(out, t.type);
            data.resize((data.size() + alignment - 1) / alignment * alignment, '\0');
            put<std::uint64_t>(out, t.offset == UINT64_MAX ? data.size() : t.offset);
            data += t.data;
        }
        out.resize((out.size() + alignment - 1) / alignment * alignment, '\0');
        return out + data;
    }

    template <typename T>
    static std::string bytes(T v) {
        std::string s;
        put<T>(s, v);
        return s;
    }

private:
    struct Tensor {
        std::string name;
        std::vector<std::uint64_t> ne;
        std::uint32_t type;
        std::string data;
        std::uint64_t offset;
    };
    std::uint32_t m_version;
    std::string m_kv;
    std::uint64_t m_entries = 0;
    std::vector<Tensor> m_tensors;
};

// n float32 values, deterministic and distinct per seed.
inline std::string floats(std::size_t n, int seed) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i)
        put<float>(s, 0.01f * float((i * 7 + seed * 13) % 97) - 0.4f);
    return s;
}

// The shape of the tiny Llama every builder below writes.
struct TinyLlama {
    std::uint32_t hidden = 8, inter = 16, layers = 1, heads = 2, kvHeads = 1, vocab = 4;
    std::uint32_t headDim() const { return hidden / heads; }
};

// What tinyLlamaGguf writes besides the tensors; changed to make files to refuse.
struct TinyGgufOptions {
    std::string arch = "llama";
    std::string tokenizer = "llama";
    std::uint32_t version = 3;
    std::uint32_t declaredInter = 0;  // feed_forward_length when not 0, else the tensors'
    bool output = true;               // false: no output.weight (tied to token_embd)
};

// A tiny Llama in GGUF with the keys and tensor names llama.cpp writes, all float32; the
// tokenizer has `vocab` SentencePiece pieces.
inline GgufBuilder tinyLlamaGguf(const TinyLlama& m = {}, const TinyGgufOptions& o = {}) {
    GgufBuilder g(o.version);
    const std::string& arch = o.arch;
    g.text("general.architecture", arch)
        .u32(arch + ".block_count", m.layers)
        .u32(arch + ".context_length", 64)
        .u32(arch + ".embedding_length", m.hidden)
        .u32(arch + ".feed_forward_length", o.declaredInter ? o.declaredInter : m.inter)
        .u32(arch + ".attention.head_count", m.heads)
        .u32(arch + ".attention.head_count_kv", m.kvHeads)
        .f32(arch + ".attention.layer_norm_rms_epsilon", 1e-5f)
        .f32(arch + ".rope.freq_base", 10000.0f)
        .text("tokenizer.ggml.model", o.tokenizer);
    std::vector<std::string> pieces{"<unk>", "<s>", "</s>"};
    while (pieces.size() < m.vocab)
        pieces.push_back("\xe2\x96\x81p" + std::to_string(pieces.size()));
    std::vector<float> scores(m.vocab);
    std::vector<std::int32_t> kinds(m.vocab, 1);
    for (std::uint32_t i = 0; i < m.vocab; ++i) scores[i] = -float(i);
    kinds[0] = 2;
    kinds[1] = kinds[2] = 3;
    g.texts("tokenizer.ggml.tokens", pieces)
        .numbers<float>("tokenizer.ggml.scores", kF32, scores)
        .numbers<std::int32_t>("tokenizer.ggml.token_type", kI32, kinds)
        .u32("tokenizer.ggml.bos_token_id", 1)
        .u32("tokenizer.ggml.eos_token_id", 2);
    const std::uint64_t h = m.hidden, f = m.inter, q = m.heads * m.headDim(),
                        kv = m.kvHeads * m.headDim(), v = m.vocab;
    int seed = 0;
    auto add = [&](const std::string& name, std::vector<std::uint64_t> ne) {
        std::uint64_t n = 1;
        for (auto d : ne) n *= d;
        g.tensor(name, ne, 0, floats(n, ++seed));
    };
    add("token_embd.weight", {h, v});
    for (std::uint32_t i = 0; i < m.layers; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        add(p + "attn_norm.weight", {h});
        add(p + "attn_q.weight", {h, q});
        add(p + "attn_k.weight", {h, kv});
        add(p + "attn_v.weight", {h, kv});
        add(p + "attn_output.weight", {q, h});
        add(p + "ffn_norm.weight", {h});
        add(p + "ffn_gate.weight", {h, f});
        add(p + "ffn_up.weight", {h, f});
        add(p + "ffn_down.weight", {f, h});
    }
    add("output_norm.weight", {h});
    if (o.output) add("output.weight", {h, v});
    return g;
}

// A safetensors file of float32 tensors given as (name, row-major shape).
inline std::string tinySafetensors(
    const std::vector<std::pair<std::string, std::vector<std::uint64_t>>>& tensors) {
    std::string header = "{", data;
    int seed = 0;
    for (const auto& [name, shape] : tensors) {
        std::uint64_t n = 1;
        std::string dims;
        for (auto d : shape) {
            n *= d;
            if (!dims.empty()) dims += ',';
            dims += std::to_string(d);
        }
        if (header.size() > 1) header += ",";
        header += "\"" + name + "\":{\"dtype\":\"F32\",\"shape\":[" + dims +
                  "],\"data_offsets\":[" + std::to_string(data.size()) + "," +
                  std::to_string(data.size() + 4 * n) + "]}";
        data += floats(n, ++seed);
    }
    header += "}";
    std::string out;
    put<std::uint64_t>(out, header.size());
    return out + header + data;
}

// The Hugging Face names and shapes of the tiny Llama (untied).
inline std::vector<std::pair<std::string, std::vector<std::uint64_t>>> tinyLlamaHfTensors(
    const TinyLlama& m = {}) {
    const std::uint64_t h = m.hidden, f = m.inter, q = m.heads * m.headDim(),
                        kv = m.kvHeads * m.headDim(), v = m.vocab;
    std::vector<std::pair<std::string, std::vector<std::uint64_t>>> t{
        {"model.embed_tokens.weight", {v, h}}};
    for (std::uint32_t i = 0; i < m.layers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        t.push_back({p + "input_layernorm.weight", {h}});
        t.push_back({p + "self_attn.q_proj.weight", {q, h}});
        t.push_back({p + "self_attn.k_proj.weight", {kv, h}});
        t.push_back({p + "self_attn.v_proj.weight", {kv, h}});
        t.push_back({p + "self_attn.o_proj.weight", {h, q}});
        t.push_back({p + "post_attention_layernorm.weight", {h}});
        t.push_back({p + "mlp.gate_proj.weight", {f, h}});
        t.push_back({p + "mlp.up_proj.weight", {f, h}});
        t.push_back({p + "mlp.down_proj.weight", {h, f}});
    }
    t.push_back({"model.norm.weight", {h}});
    t.push_back({"lm_head.weight", {v, h}});
    return t;
}

// config.json of the tiny Llama; `inter` replaces its intermediate size when not 0.
inline std::string tinyLlamaHfConfig(const TinyLlama& m = {},
                                     const std::string& arch = "LlamaForCausalLM",
                                     std::uint32_t inter = 0) {
    return "{\"architectures\":[\"" + arch + "\"],\"hidden_size\":" + std::to_string(m.hidden) +
           ",\"intermediate_size\":" + std::to_string(inter ? inter : m.inter) +
           ",\"num_hidden_layers\":" + std::to_string(m.layers) +
           ",\"num_attention_heads\":" + std::to_string(m.heads) +
           ",\"num_key_value_heads\":" + std::to_string(m.kvHeads) +
           ",\"vocab_size\":" + std::to_string(m.vocab) +
           ",\"rms_norm_eps\":1e-05,\"rope_theta\":10000.0,\"tie_word_embeddings\":false}";
}

// A llama2.c v0 checkpoint of the tiny Llama (kv heads = heads in llama2.c's export),
// seq_len 4; a negative vocabulary in the header when `unsharedClassifier`.
inline std::string tinyLlama2c(const TinyLlama& m = {}, bool unsharedClassifier = false) {
    const std::int32_t seqLen = 4;
    std::string out;
    for (std::int32_t v :
         {std::int32_t(m.hidden), std::int32_t(m.inter), std::int32_t(m.layers),
          std::int32_t(m.heads), std::int32_t(m.kvHeads),
          unsharedClassifier ? -std::int32_t(m.vocab) : std::int32_t(m.vocab), seqLen})
        put<std::int32_t>(out, v);
    const std::size_t h = m.hidden, f = m.inter, L = m.layers, kv = m.kvHeads * m.headDim();
    const std::size_t floatsTotal = m.vocab * h + L * h + L * h * h + 2 * L * kv * h + L * h * h +
                                    L * h + 3 * L * f * h + h + seqLen * m.headDim() +
                                    (unsharedClassifier ? m.vocab * h : 0);
    return out + floats(floatsTotal, 3);
}

}  // namespace cwb::test::llm
