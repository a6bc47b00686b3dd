// The block formats against real llama.cpp output: the GGUF fixtures were written by
// llama-quantize --pure from the f32 conversion of kjv-llama-6m's bf16 weights, so quantizing
// those same weights with the reference quantizers must give the fixtures' bytes, block for
// block. Also: dequantize-then-quantize of the fixtures' own blocks (every block for Q8_0 and
// Q4_0; a stated share for Q4_K and Q2_K, whose scale search sees other inputs then), and the
// decoders against the fixtures' Q8_0 values computed from their raw codes.
// The fixtures are opened with the project's GGUF reader (core/io/gguf.h, tested on its own).
#include <QtTest>
#include <cmath>
#include <cstring>
#include <map>

#include "core/io/gguf.h"
#include "core/io/safetensors.h"
#include "core/model/tensor.h"
#include "core/quant/block_formats.h"
#include "core/quant/quant_rows.h"
#include "core/util/mapped_file.h"
#include "tests/support/test_paths.h"

using namespace cwb;

namespace {

// A fixture's tensors by their GGUF names, as the project's reader gives them: row-major
// [rows, cols] views into the mapped file.
class FixtureGguf {
public:
    explicit FixtureGguf(const std::string& path) : m_file(GgufFile::parse(mapFile(path), path)) {
        for (const auto& info : m_file.tensorInfos()) m_tensors[info.name] = m_file.tensor(info);
    }
    const std::map<std::string, Tensor>& tensors() const { return m_tensors; }

private:
    GgufFile m_file;
    std::map<std::string, Tensor> m_tensors;
};

std::int64_t rowsOf(const Tensor& t) { return t.shape().size() > 1 ? t.shape()[0] : 1; }
std::int64_t colsOf(const Tensor& t) { return t.shape().back(); }

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
        const FixtureGguf gguf(test::llmFixture(file.toStdString()));
        const auto& hf = hfWeights();
        std::int64_t blocks = 0, same = 0, tensors = 0;
        for (const auto& [name, weights] : hf) {
            int ropeHeads;
            const std::string target = ggufName(name, ropeHeads);
            if (target.empty()) continue;
            const Tensor& g = gguf.tensors().at(target);
            const std::int64_t rows = rowsOf(g), cols = colsOf(g);
            QCOMPARE(weights.shape(), (Shape{rows, cols}));
            const std::vector<float> values = weights.toFloatVector();  // bf16, exact
            const std::size_t rowBytes = quant::rowBytes(g.dtype(), cols);
            const auto& format = quant::blockFormat(g.dtype());
            std::vector<std::byte> row(rowBytes);
            for (std::int64_t r = 0; r < rows; ++r) {
                quant::quantizeRow(g.dtype(), values.data() + hfRow(r, rows, ropeHeads) * cols,
                                   row.data(), cols);
                const std::byte* expected = g.bytes() + r * rowBytes;
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
        const FixtureGguf gguf(test::llmFixture(file.toStdString()));
        std::int64_t blocks = 0, same = 0;
        for (const auto& [name, g] : gguf.tensors()) {
            if (!dtypeIsBlock(g.dtype())) continue;
            const auto& format = quant::blockFormat(g.dtype());
            const std::size_t rowBytes = quant::rowBytes(g.dtype(), colsOf(g));
            std::vector<float> values(static_cast<std::size_t>(colsOf(g)));
            std::vector<std::byte> again(rowBytes);
            for (std::int64_t r = 0; r < rowsOf(g); ++r) {
                const std::byte* row = g.bytes() + r * rowBytes;
                quant::dequantizeRow(g.dtype(), row, values.data(), colsOf(g));
                quant::quantizeRow(g.dtype(), values.data(), again.data(), colsOf(g));
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
        const FixtureGguf gguf(test::llmFixture(file.toStdString()));
        double signal = 0, noise = 0;
        for (const auto& [name, weights] : hfWeights()) {
            int ropeHeads;
            const std::string target = ggufName(name, ropeHeads);
            if (target.empty()) continue;
            const Tensor& g = gguf.tensors().at(target);
            const std::vector<float> original = weights.toFloatVector();
            const std::size_t rowBytes = quant::rowBytes(g.dtype(), colsOf(g));
            std::vector<float> row(static_cast<std::size_t>(colsOf(g)));
            for (std::int64_t r = 0; r < rowsOf(g); ++r) {
                quant::dequantizeRow(g.dtype(), g.bytes() + r * rowBytes, row.data(), colsOf(g));
                const float* w = original.data() + hfRow(r, rowsOf(g), ropeHeads) * colsOf(g);
                for (std::int64_t i = 0; i < colsOf(g); ++i) {
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
