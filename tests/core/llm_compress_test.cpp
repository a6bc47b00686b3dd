// Compression of kjv-llama-6m's weights: the workbench's alpha/rho on the block matrices
// against a naive per-weight reference (as stored: Q8_K codes decoded), what stays
// untouched, the statistics per tensor, and rho alone kept in bf16.
#include "core/llm/llm_compress.h"

#include <QtTest>
#include <cmath>

#include "core/error.h"
#include "core/llm/linear.h"
#include "tests/support/llm_fixture.h"

using namespace cwb;
using namespace cwb::test;

namespace {

// EXPECTED.md's rule, one weight at a time, in float32.
float naiveAlphaRho(float w, float alpha, float rho) {
    if (rho > 0.f && !(std::fabs(w) >= rho)) return 0.f;
    return alpha > 0.f ? std::round(w / alpha) * alpha : w;
}

}  // namespace

class LlmCompressTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { m_ckpt = loadKjvSafetensors(); }

    void alphaRhoFollowsTheRuleOnEveryBlockMatrix() {
        const float alpha = 0.02f, rho = 0.02f;
        LlmCompression c;
        c.settings.quant.alpha = alpha;
        c.settings.prune.rho = rho;
        const LlmCompressionResult r = compressLlama(m_ckpt.config, m_ckpt.weights, c, {2, {}});
        QCOMPARE(int(r.tensors.size()), 6 * 7);
        QCOMPARE(QString::fromStdString(r.tensors[0].name), QString("blk.0.attn_q.weight"));
        QCOMPARE(QString::fromStdString(r.tensors[41].name), QString("blk.5.ffn_down.weight"));

        const std::pair<Tensor LlamaBlockWeights::*, int> checked[] = {
            {&LlamaBlockWeights::q, 0}, {&LlamaBlockWeights::k, 1}, {&LlamaBlockWeights::down, 6}};
        for (const auto& [member, index] : checked) {
            const Tensor& original = m_ckpt.weights.blocks[2].*member;
            const Tensor& compressed = r.weights.blocks[2].*member;
            QCOMPARE(compressed.shape(), original.shape());
            // Codes of 8 bits on one step: kept exactly as Q8_K blocks (d = alpha).
            QCOMPARE(compressed.dtype(), DType::Q8_K);
            const auto w = original.toFloatVector();
            const auto cols = static_cast<std::size_t>(original.shape()[1]);
            std::vector<float> out(w.size());
            for (std::int64_t row = 0; row < original.shape()[0]; ++row)
                tensorRowToFloat(compressed, row, out.data() + row * cols);
            double sumSquares = 0, sumError = 0;
            long long zeros = 0;
            for (std::size_t i = 0; i < w.size(); ++i) {
                const float want = naiveAlphaRho(w[i], alpha, rho);
                QCOMPARE(out[i], want);
                sumSquares += double(w[i]) * w[i];
                sumError += (double(want) - w[i]) * (double(want) - w[i]);
                zeros += want == 0.f;
            }
            const LlmTensorReport& report = r.tensors[2 * 7 + index];
            QCOMPARE(report.original, DType::BF16);
            QCOMPARE(report.stored, DType::Q8_K);
            QCOMPARE(report.stats.zeros, zeros);
            QVERIFY(std::fabs(report.stats.sqnrDb - 10 * std::log10(sumSquares / sumError)) < 1e-6);
            QCOMPARE(report.stats.original.total(), std::uint64_t(w.size()));
            QCOMPARE(report.stats.error.total(), std::uint64_t(w.size()));
            QVERIFY(report.bitsPerWeight > 0 && report.bitsPerWeight < 16);
        }
        // Embeddings, output and norms are the original views.
        QCOMPARE(r.weights.embedding.bytes(), m_ckpt.weights.embedding.bytes());
        QCOMPARE(r.weights.output.bytes(), m_ckpt.weights.output.bytes());
        QCOMPARE(r.weights.blocks[4].ffnNorm.bytes(), m_ckpt.weights.blocks[4].ffnNorm.bytes());
        QCOMPARE(r.total.elements, 6LL * 753664);
    }

    void nothingToDoSharesEveryTensor() {
        const LlmCompressionResult r = compressLlama(m_ckpt.config, m_ckpt.weights, {}, {2, {}});
        for (int layer = 0; layer < 6; ++layer)
            QCOMPARE(r.weights.blocks[layer].gate.bytes(),
                     m_ckpt.weights.blocks[layer].gate.bytes());
        QCOMPARE(r.tensors[3].stored, DType::BF16);
        QVERIFY(std::isinf(r.tensors[3].stats.sqnrDb));
    }

    void rhoAloneKeepsTheOriginalValuesInBf16() {
        LlmCompression c;
        c.settings.prune.rho = 0.02f;
        const LlmCompressionResult r = compressLlama(m_ckpt.config, m_ckpt.weights, c, {2, {}});
        const Tensor& original = m_ckpt.weights.blocks[1].up;
        const Tensor& pruned = r.weights.blocks[1].up;
        QCOMPARE(pruned.dtype(), DType::BF16);
        QVERIFY(pruned.bytes() != original.bytes());  // a copy, not the file's view
        const auto w = original.toFloatVector(), out = pruned.toFloatVector();
        for (std::size_t i = 0; i < w.size(); ++i)
            QCOMPARE(out[i], naiveAlphaRho(w[i], 0.f, 0.02f));
        // Histograms of every tensor share edges: the whole model's counts are their sums.
        std::uint64_t counted = 0;
        for (const LlmTensorReport& t : r.tensors) {
            QCOMPARE(t.stats.compressed.spec.lo, r.total.compressed.spec.lo);
            QCOMPARE(t.stats.compressed.spec.hi, r.total.compressed.spec.hi);
            counted += t.stats.compressed.total();
        }
        QCOMPARE(counted, std::uint64_t(r.total.elements));
    }

    void cancelStops() {
        LlmCompression c;
        c.settings.quant.alpha = 0.01f;
        Progress progress{[](long long, long long) { return false; }};
        QVERIFY_THROWS_EXCEPTION(
            Cancelled, compressLlama(m_ckpt.config, m_ckpt.weights, c, {2, {}}, progress));
    }

private:
    LlamaCheckpoint m_ckpt;
};

QTEST_GUILESS_MAIN(LlmCompressTest)
#include "llm_compress_test.moc"
