// llama.cpp's block formats applied by the workbench to kjv-llama-6m's bf16 weights (every
// 2-D tensor, as llama-quantize --pure): Q8_0, Q6_K and the 5-bit formats against EXPECTED.md
// (llm_block_formats_low_test has the rest), the statistics per tensor, and the prefill by
// decoded tiles against the packed kernels.
#include <QtTest>
#include <cmath>

#include "core/error.h"
#include "core/llm/linear.h"
#include "tests/support/llm_format_rows.h"

using namespace cwb;
using namespace cwb::test;

namespace {

#ifdef CWB_SANITIZER_BUILD
constexpr int kChunks = 2;  // the memory handling; the figures are the normal build's
#else
constexpr int kChunks = 0;
#endif

}  // namespace

class LlmBlockFormatsTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        m_ckpt = loadKjvSafetensors();
        m_tokens = revelationTokens();
        m_original = recordOriginal(m_ckpt, m_tokens, kChunks);
    }

    void formatsMatchLlamaCpp_data() {
#ifdef CWB_SANITIZER_BUILD
        addFormatRows({"Q8_0", "Q5_1"});
#else
        addFormatRows({"Q8_0", "Q6_K", "Q5_1", "Q5_0", "Q5_K"});
#endif
    }
    void formatsMatchLlamaCpp() {
        QFETCH(int, row);
        checkFormatRow(kFormatRows[row], m_ckpt, m_tokens, m_original, kChunks);
    }

    // Per tensor: the stored bytes, and SQNR and zeros against the decoded blocks.
    void statisticsPerTensor() {
        LlmCompression c;
        c.format = DType::Q4_K;
        const LlmCompressionResult r = compressLlama(m_ckpt.config, m_ckpt.weights, c, {2, {}});
        QCOMPARE(int(r.tensors.size()), 6 * 7);  // the block matrices only
        QCOMPARE(r.weights.embedding.bytes(), m_ckpt.weights.embedding.bytes());
        QCOMPARE(r.weights.output.dtype(), DType::BF16);
        const LlmTensorReport& down = r.tensors[3 * 7 + 6];
        QCOMPARE(QString::fromStdString(down.name), QString("blk.3.ffn_down.weight"));
        QCOMPARE(down.stored, DType::Q4_K);
        QCOMPARE(down.bitsPerWeight, 4.5);
        QCOMPARE(down.stats.size.bytes, std::int64_t(256 * 768 / 256 * 144));
        const Tensor& packed = r.weights.blocks[3].down;
        QCOMPARE(packed.dtype(), DType::Q4_K);
        const auto w = m_ckpt.weights.blocks[3].down.toFloatVector();
        const auto q = packed.toFloatVector();
        double signal = 0, noise = 0;
        long long zeros = 0;
        for (std::size_t i = 0; i < w.size(); ++i) {
            signal += double(w[i]) * w[i];
            noise += (double(q[i]) - w[i]) * (double(q[i]) - w[i]);
            zeros += q[i] == 0.f;
        }
        QVERIFY(std::fabs(down.stats.sqnrDb - 10 * std::log10(signal / noise)) < 1e-9);
        QCOMPARE(down.stats.zeros, zeros);
        QCOMPARE(down.stats.original.total() + down.stats.original.underflow +
                     down.stats.original.overflow,
                 std::uint64_t(w.size()));
        QCOMPARE(down.stats.error.underflow + down.stats.error.overflow, std::uint64_t(0));
        QCOMPARE(r.total.elements, 6LL * 753664);
        QCOMPARE(r.bitsPerWeight, 4.5);
    }

    void badRequestsGiveOneLine() {
        LlmCompression c;
        c.format = DType::Q8_K;
        QVERIFY_THROWS_EXCEPTION(Error, compressLlama(m_ckpt.config, m_ckpt.weights, c));
        c.format = DType::Q4_0;
        c.settings.quant.alpha = 0.01f;
        QVERIFY_THROWS_EXCEPTION(Error, compressLlama(m_ckpt.config, m_ckpt.weights, c));
    }

    // Prefill by decoded tiles and SGEMM computes the packed kernels' products: for every
    // matrix of a block, on 64 rows of activations, they agree to float rounding. (Whole runs
    // differ more: a rounding-level difference can move an activation across a Q8 rounding
    // boundary in a later layer; the perplexity rows hold both to llama.cpp's figures.)
    void decodedTilesMatchPackedKernels_data() {
        QTest::addColumn<QString>("format");
        for (const char* f :
             {"Q8_0", "Q6_K", "Q5_1", "Q5_0", "Q5_K", "Q4_K", "Q4_1", "Q4_0", "Q3_K", "Q2_K"})
            QTest::newRow(f) << f;
    }
    void decodedTilesMatchPackedKernels() {
        QFETCH(QString, format);
        LlmCompression c;
        c.format = formatType(qPrintable(format));
        const LlmCompressionResult compressed =
            compressLlama(m_ckpt.config, m_ckpt.weights, c, {2, {}});
        const int tokens = 64;
        WorkerPool& pool = WorkerPool::shared(2);
        const LlamaBlockWeights& b = compressed.weights.blocks[1];
        double worst = 0;
        for (const Tensor* w : {&b.q, &b.v, &b.up, &b.down}) {
            const std::int64_t out = w->shape()[0], in = w->shape()[1];
            std::vector<float> x(static_cast<std::size_t>(tokens * in));
            for (int t = 0; t < tokens; ++t)
                for (std::int64_t i = 0; i < in; ++i)
                    x[t * in + i] = std::sin(0.37f * float(i) + 1.3f * float(t)) * (1 + t % 5);
            std::vector<float> tiles(static_cast<std::size_t>(tokens * out)), packed(tiles.size());
            linear(*w, x.data(), tokens, tiles.data(), pool, BatchKernel::DecodedTiles);
            linear(*w, x.data(), tokens, packed.data(), pool, BatchKernel::Packed);
            double scale = 0, error = 0;
            for (std::size_t i = 0; i < tiles.size(); ++i) {
                scale = std::max(scale, double(std::fabs(packed[i])));
                error = std::max(error, double(std::fabs(tiles[i] - packed[i])));
            }
            worst = std::max(worst, error / scale);
        }
        QVERIFY2(worst < 1e-5, qPrintable(QString("max |difference| / max |y| = %1").arg(worst)));
    }

private:
    LlamaCheckpoint m_ckpt;
    std::vector<std::int32_t> m_tokens;
    PerplexityReference m_original;
};

QTEST_GUILESS_MAIN(LlmBlockFormatsTest)
#include "llm_block_formats_test.moc"
