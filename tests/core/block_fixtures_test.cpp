// The block formats against real llama.cpp output: the GGUF fixtures were written by
// llama-quantize --pure from the f32 conversion of kjv-llama-6m's bf16 weights, so quantizing
// those same weights with the reference quantizers must give the fixtures' bytes, block for
// block. Also: dequantize-then-quantize of the fixtures' own blocks (every block for Q8_0 and
// Q4_0; a stated share for Q4_K and Q2_K, whose scale search sees other inputs then), and the
// decoders against the fixtures' Q8_0 values computed from their raw codes.
//
// The GGUF header is read here with a minimal parser of the v3 layout (the project's reader
// lives in core/io and is tested on its own).
#include <QtTest>
#include <cmath>
#include <cstring>
#include <map>

#include "core/io/safetensors.h"
#include "core/model/tensor.h"
#include "core/quant/block_formats.h"
#include "core/quant/quant_rows.h"
#include "core/util/mapped_file.h"
#include "tests/support/test_paths.h"

using namespace cwb;

namespace {

struct GgufTensor {
    std::vector<std::uint64_t> dims;  // ne0 (row length) first
    DType type = DType::F32;
    const std::byte* data = nullptr;
    std::int64_t rows() const { return dims.size() > 1 ? static_cast<std::int64_t>(dims[1]) : 1; }
    std::int64_t cols() const { return static_cast<std::int64_t>(dims[0]); }
};

class MiniGguf {
public:
    explicit MiniGguf(const std::string& path) : m_file(mapFile(path)) {
        const std::byte* p = m_file->data();
        m_at = p;
        m_end = p + m_file->size();
        if (std::memcmp(p, "GGUF", 4) != 0) throw std::runtime_error(path + ": not GGUF");
        m_at += 4;
        if (read<std::uint32_t>() != 3) throw std::runtime_error(path + ": not GGUF v3");
        const auto tensors = read<std::uint64_t>(), kvs = read<std::uint64_t>();
        std::uint64_t alignment = 32;
        for (std::uint64_t i = 0; i < kvs; ++i) {
            const std::string key = readString();
            const auto type = read<std::uint32_t>();
            if (key == "general.alignment") {
                alignment = read<std::uint32_t>();
                continue;
            }
            skipValue(type);
        }
        std::vector<std::pair<std::string, std::uint64_t>> offsets;
        for (std::uint64_t i = 0; i < tensors; ++i) {
            const std::string name = readString();
            GgufTensor t;
            const auto dims = read<std::uint32_t>();
            for (std::uint32_t d = 0; d < dims; ++d) t.dims.push_back(read<std::uint64_t>());
            if (!dtypeFromGgmlId(read<std::uint32_t>(), t.type))
                throw std::runtime_error(path + ": unknown type");
            offsets.emplace_back(name, read<std::uint64_t>());
            m_tensors[name] = t;
        }
        const auto header = static_cast<std::uint64_t>(m_at - p);
        const std::uint64_t data = (header + alignment - 1) / alignment * alignment;
        for (const auto& [name, offset] : offsets) m_tensors[name].data = p + data + offset;
    }
    const std::map<std::string, GgufTensor>& tensors() const { return m_tensors; }

private:
    template <typename T>
    T read() {
        if (m_at + sizeof(T) > m_end) throw std::runtime_error("GGUF header truncated");
        T v;
        std::memcpy(&v, m_at, sizeof(T));
        m_at += sizeof(T);
        return v;
    }
    std::string readString() {
        const auto n = read<std::uint64_t>();
        if (n > static_cast<std::uint64_t>(m_end - m_at)) throw std::runtime_error("bad string");
        std::string s(reinterpret_cast<const char*>(m_at), n);
        m_at += n;
        return s;
    }
    void skipValue(std::uint32_t type) {
        static const int kSizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
        if (type == 8) {
            readString();
        } else if (type == 9) {
            const auto inner = read<std::uint32_t>();
            const auto n = read<std::uint64_t>();
            for (std::uint64_t i = 0; i < n; ++i) skipValue(inner);
        } else if (type < 13) {
            m_at += kSizes[type];
        } else {
            throw std::runtime_error("bad GGUF value type");
        }
    }

    std::shared_ptr<MappedStorage> m_file;
    const std::byte* m_at = nullptr;
    const std::byte* m_end = nullptr;
    std::map<std::string, GgufTensor> m_tensors;
};

// The bf16 weights of the Hugging Face folder by name (read once).
const std::map<std::string, Tensor>& hfWeights() {
    static std::map<std::string, Tensor> out;
    if (!out.empty()) return out;
    for (const char* shard :
         {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}) {
        const std::string path = test::llmFixture(std::string("kjv-llama-6m/") + shard);
        for (auto& t : parseSafetensors(mapFile(path), path)) out[t.name] = t.tensor;
    }
    return out;
}

// The GGUF name of a Hugging Face tensor, and the number of heads whose rows
// convert_hf_to_gguf interleaves for llama.cpp's RoPE (0: rows kept in order).
std::string ggufName(const std::string& hf, int& ropeHeads) {
    ropeHeads = 0;
    if (hf == "model.embed_tokens.weight") return "token_embd.weight";
    if (hf == "lm_head.weight") return "output.weight";
    static const std::pair<const char*, const char*> kParts[] = {
        {"self_attn.q_proj", "attn_q"}, {"self_attn.k_proj", "attn_k"},
        {"self_attn.v_proj", "attn_v"}, {"self_attn.o_proj", "attn_output"},
        {"mlp.gate_proj", "ffn_gate"},  {"mlp.up_proj", "ffn_up"},
        {"mlp.down_proj", "ffn_down"},
    };
    const std::string prefix = "model.layers.";
    if (hf.rfind(prefix, 0) != 0) return {};
    const auto dot = hf.find('.', prefix.size());
    const std::string layer = hf.substr(prefix.size(), dot - prefix.size());
    for (const auto& [from, to] : kParts)
        if (hf.substr(dot + 1) == std::string(from) + ".weight") {
            if (std::string(to) == "attn_q") ropeHeads = 8;
            if (std::string(to) == "attn_k") ropeHeads = 2;
            return "blk." + layer + "." + to + ".weight";
        }
    return {};
}

// The Hugging Face row behind GGUF row r: within each head of R rows, convert_hf_to_gguf
// puts row s * R/2 + i at 2 i + s.
std::int64_t hfRow(std::int64_t r, std::int64_t rows, int ropeHeads) {
    if (!ropeHeads) return r;
    const std::int64_t per = rows / ropeHeads, h = r / per, k = r % per;
    return h * per + (k % 2) * (per / 2) + k / 2;
}

}  // namespace

class BlockFixturesTest : public QObject {
    Q_OBJECT
private slots:
    void referenceQuantizersGiveLlamaCppBytes_data() {
        QTest::addColumn<QString>("file");
        QTest::newRow("Q8_0") << "kjv-llama-6m.Q8_0.gguf";
        QTest::newRow("Q4_0") << "kjv-llama-6m.Q4_0.gguf";
        QTest::newRow("Q4_K") << "kjv-llama-6m.Q4_K.gguf";
        QTest::newRow("Q2_K") << "kjv-llama-6m.Q2_K.gguf";
    }
    void referenceQuantizersGiveLlamaCppBytes() {
        QFETCH(QString, file);
        const MiniGguf gguf(test::llmFixture(file.toStdString()));
        const auto& hf = hfWeights();
        std::int64_t blocks = 0, same = 0, tensors = 0;
        for (const auto& [name, weights] : hf) {
            int ropeHeads;
            const std::string target = ggufName(name, ropeHeads);
            if (target.empty()) continue;
            const GgufTensor& g = gguf.tensors().at(target);
            const std::int64_t rows = g.rows(), cols = g.cols();
            QCOMPARE(weights.shape(), (Shape{rows, cols}));
            const std::vector<float> values = weights.toFloatVector();  // bf16, exact
            const std::size_t rowBytes = quant::rowBytes(g.type, cols);
            const auto& format = quant::blockFormat(g.type);
            std::vector<std::byte> row(rowBytes);
            for (std::int64_t r = 0; r < rows; ++r) {
                quant::quantizeRow(g.type, values.data() + hfRow(r, rows, ropeHeads) * cols,
                                   row.data(), cols);
                const std::byte* expected = g.data + r * rowBytes;
                for (std::size_t b = 0; b < rowBytes; b += format.blockBytes, ++blocks)
                    same += std::memcmp(row.data() + b, expected + b, format.blockBytes) == 0;
            }
            ++tensors;
        }
        qInfo("%s: %lld of %lld blocks in %lld tensors identical to llama-quantize's",
              qPrintable(file), static_cast<long long>(same), static_cast<long long>(blocks),
              static_cast<long long>(tensors));
        QCOMPARE(tensors, std::int64_t(2 + 6 * 7));
        QCOMPARE(same, blocks);
    }

    // Decode every block of a fixture and quantize it again. Q8_0 and Q4_0 must give every
    // block back; the K formats search scales again on the decoded values, so only most.
    void fixtureBlocksSurviveDequantizeQuantize_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<double>("least");  // the share of blocks that must come back
        QTest::newRow("Q8_0") << "kjv-llama-6m.Q8_0.gguf" << 1.0;
        QTest::newRow("Q4_0") << "kjv-llama-6m.Q4_0.gguf" << 1.0;
        QTest::newRow("Q4_K") << "kjv-llama-6m.Q4_K.gguf" << 0.999;  // 99.97 % measured
        QTest::newRow("Q2_K") << "kjv-llama-6m.Q2_K.gguf" << 0.99;   // 99.20 % measured
    }
    void fixtureBlocksSurviveDequantizeQuantize() {
        QFETCH(QString, file);
        QFETCH(double, least);
        const MiniGguf gguf(test::llmFixture(file.toStdString()));
        std::int64_t blocks = 0, same = 0;
        for (const auto& [name, g] : gguf.tensors()) {
            if (!dtypeIsBlock(g.type)) continue;
            const auto& format = quant::blockFormat(g.type);
            const std::size_t rowBytes = quant::rowBytes(g.type, g.cols());
            std::vector<float> values(static_cast<std::size_t>(g.cols()));
            std::vector<std::byte> again(rowBytes);
            for (std::int64_t r = 0; r < g.rows(); ++r) {
                const std::byte* row = g.data + r * rowBytes;
                quant::dequantizeRow(g.type, row, values.data(), g.cols());
                quant::quantizeRow(g.type, values.data(), again.data(), g.cols());
                for (std::size_t b = 0; b < rowBytes; b += format.blockBytes, ++blocks)
                    same += std::memcmp(again.data() + b, row + b, format.blockBytes) == 0;
            }
        }
        const double share = double(same) / double(blocks);
        qInfo("%s: %lld of %lld blocks (%.2f %%) come back from their decoded values",
              qPrintable(file), static_cast<long long>(same), static_cast<long long>(blocks),
              100 * share);
        QVERIFY(blocks > 0);
        QVERIFY(share >= least);
    }

    // The decoded fixtures against the bf16 weights they came from: the error of each format
    // as a signal-to-noise ratio, within what the bits allow (6 dB a bit, less the block
    // overhead). A decoder reading the wrong field gives noise, near 0 dB.
    void decodedFixturesAreCloseToTheirWeights_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<double>("leastDb");
        QTest::newRow("Q8_0") << "kjv-llama-6m.Q8_0.gguf" << 44.0;  // 45.7 measured
        QTest::newRow("Q4_0") << "kjv-llama-6m.Q4_0.gguf" << 20.0;  // 21.6
        QTest::newRow("Q4_K") << "kjv-llama-6m.Q4_K.gguf" << 22.0;  // 23.2
        QTest::newRow("Q2_K") << "kjv-llama-6m.Q2_K.gguf" << 10.0;  // 10.8
    }
    void decodedFixturesAreCloseToTheirWeights() {
        QFETCH(QString, file);
        QFETCH(double, leastDb);
        const MiniGguf gguf(test::llmFixture(file.toStdString()));
        double signal = 0, noise = 0;
        for (const auto& [name, weights] : hfWeights()) {
            int ropeHeads;
            const std::string target = ggufName(name, ropeHeads);
            if (target.empty()) continue;
            const GgufTensor& g = gguf.tensors().at(target);
            const std::vector<float> original = weights.toFloatVector();
            const std::size_t rowBytes = quant::rowBytes(g.type, g.cols());
            std::vector<float> row(static_cast<std::size_t>(g.cols()));
            for (std::int64_t r = 0; r < g.rows(); ++r) {
                quant::dequantizeRow(g.type, g.data + r * rowBytes, row.data(), g.cols());
                const float* w = original.data() + hfRow(r, g.rows(), ropeHeads) * g.cols();
                for (std::int64_t i = 0; i < g.cols(); ++i) {
                    signal += double(w[i]) * w[i];
                    noise += double(row[i] - w[i]) * (row[i] - w[i]);
                }
            }
        }
        const double db = 10 * std::log10(signal / noise);
        qInfo("%s: SQNR %.1f dB", qPrintable(file), db);
        QVERIFY(db >= leastDb);
    }
};

QTEST_APPLESS_MAIN(BlockFixturesTest)
#include "block_fixtures_test.moc"
