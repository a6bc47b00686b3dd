// llama.cpp's block formats applied by the workbench to kjv-llama-6m's bf16 weights (every
// 2-D tensor, as llama-quantize --pure): Q8_0, Q6_K and the 5-bit formats against EXPECTED.md
// (llm_block_formats_low_test has the rest), and the statistics per tensor.
#include <QtTest>
#include <cmath>
#include <cstring>

#include "core/backend/backend.h"
#include "core/error.h"
#include "tests/support/llm_format_rows.h"

using namespace cwb;
using namespace cwb::test;

class LlmBlockFormatsTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { m_rows.load(); }

    void formatsMatchLlamaCpp_data() {
#ifdef CWB_SANITIZER_BUILD
        addFormatRows({"Q8_0", "Q5_1"});
#else
        addFormatRows({"Q8_0", "Q6_K", "Q5_1", "Q5_0", "Q5_K"});
#endif
    }
    void formatsMatchLlamaCpp() {
        QFETCH(int, row);
        m_rows.check(row);
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

    // The backend route (a float32 copy through Backend::runBlockPass, here the CPU's) gives
    // the row-by-row route's bytes and figures exactly: the same rows through the same
    // encoder, summed in the same chunks. compressLlama's packed tensors, and one tensor's
    // histograms with automatic edges through compressLlmTensor.
    void theBackendRouteGivesTheSameFigures() {
        LlmCompression c;
        c.format = DType::Q3_K;
        c.scope = LlmScope::All;
        LlmCompressOptions options{2, {}};
        const LlmCompressionResult rows = compressLlama(m_ckpt.config, m_ckpt.weights, c, options);
        options.backend = &cpuBackend();
        const LlmCompressionResult pass = compressLlama(m_ckpt.config, m_ckpt.weights, c, options);
        QCOMPARE(pass.tensors.size(), rows.tensors.size());
        for (std::size_t k = 0; k < rows.tensors.size(); ++k) {
            const TensorStats &a = rows.tensors[k].stats, &b = pass.tensors[k].stats;
            QCOMPARE(b.sumSquaredError, a.sumSquaredError);
            QCOMPARE(b.zeros, a.zeros);
            QCOMPARE(b.error.counts, a.error.counts);
        }
        const Tensor& a = rows.weights.blocks[4].gate;
        const Tensor& b = pass.weights.blocks[4].gate;
        QCOMPARE(b.dtype(), DType::Q3_K);
        QVERIFY(std::memcmp(a.bytes(), b.bytes(), a.byteSize()) == 0);
        QVERIFY(std::memcmp(rows.weights.embedding.bytes(), pass.weights.embedding.bytes(),
                            rows.weights.embedding.byteSize()) == 0);

        const Tensor& up = m_ckpt.weights.blocks[1].up;
        for (const DType format : {DType::Q8_0, DType::Q2_K, DType::Q5_K, DType::F16}) {
            c.format = format;
            LlmTensorOptions one;
            one.threads = 2;
            const LlmTensorReport x = compressLlmTensor("blk.1.ffn_up.weight", up, c, one);
            one.backend = &cpuBackend();
            const LlmTensorReport y = compressLlmTensor("blk.1.ffn_up.weight", up, c, one);
            QCOMPARE(y.stats.sumSquares, x.stats.sumSquares);
            QCOMPARE(y.stats.sqnrDb, x.stats.sqnrDb);
            QCOMPARE(y.stats.maxAbsError, x.stats.maxAbsError);
            QCOMPARE(y.stats.minValue, x.stats.minValue);
            QCOMPARE(y.stats.maxValue, x.stats.maxValue);
            QCOMPARE(y.stats.originalZeros, x.stats.originalZeros);
            QCOMPARE(y.stats.original.spec.hi, x.stats.original.spec.hi);
            QCOMPARE(y.stats.error.spec.hi, x.stats.error.spec.hi);
            QCOMPARE(y.stats.original.counts, x.stats.original.counts);
            QCOMPARE(y.stats.compressed.counts, x.stats.compressed.counts);
            QCOMPARE(y.stats.error.counts, x.stats.error.counts);
            QCOMPARE(y.blockLevels, x.blockLevels);
            QCOMPARE(y.bitsPerWeight, x.bitsPerWeight);
        }
    }

    void badRequestsGiveOneLine() {
        LlmCompression c;
        c.format = DType::Q8_K;
        QVERIFY_THROWS_EXCEPTION(Error, compressLlama(m_ckpt.config, m_ckpt.weights, c));
        c.format = DType::Q4_0;
        c.settings.quant.alpha = 0.01f;
        QVERIFY_THROWS_EXCEPTION(Error, compressLlama(m_ckpt.config, m_ckpt.weights, c));
    }

private:
    FormatRowsFixture m_rows;
    const LlamaCheckpoint& m_ckpt = m_rows.checkpoint;
};

QTEST_GUILESS_MAIN(LlmBlockFormatsTest)
#include "llm_block_formats_test.moc"
