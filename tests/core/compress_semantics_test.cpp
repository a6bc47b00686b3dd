// Compression semantics against hand-worked examples: rounding, pruning rules, masks,
// levels and encoded sizes. Every expected number here was worked out by hand.
#include <QtTest>
#include <cmath>
#include <cstring>
#include <random>

#include "core/compress/compress_model.h"
#include "core/compress/encoded_size.h"
#include "core/compress/masks.h"
#include "core/compress/quantize.h"
#include "core/error.h"

using namespace cwb;

namespace {

// A model of Dense layers with the given kernels (in, out); biases zero.
Model denseModel(const std::vector<std::pair<Shape, std::vector<float>>>& kernels) {
    Model m;
    m.sourcePath = "hand-made";
    m.inputShape = {kernels.front().first[0]};
    int i = 0;
    for (const auto& [shape, values] : kernels) {
        Layer l;
        l.name = "dense_" + std::to_string(i++);
        l.className = "Dense";
        l.kind = LayerKind::Dense;
        l.units = static_cast<int>(shape[1]);
        l.kernel = Tensor::fromFloats(shape, values);
        l.bias = Tensor::zeros({shape[1]});
        m.layers.push_back(l);
    }
    m.inferShapes();
    return m;
}

std::vector<float> randomWeights(std::size_t n, unsigned seed, float scale = 0.2f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.f, scale);
    std::vector<float> w(n);
    for (auto& v : w) v = dist(rng);
    return w;
}

std::vector<float> kernelOf(const CompressionResult& r, int layer) {
    const auto f = r.model.layers[layer].kernel.floats();
    return {f.begin(), f.end()};
}

CompressionResult run(const Model& m, const CompressionPlan& plan) {
    CompressOptions o;
    o.threads = 2;
    return compressModel(m, plan, o);
}

}  // namespace

class CompressSemanticsTest : public QObject {
    Q_OBJECT
private slots:
    void workedExampleEightStepFiveGivesTen() {
        QCOMPARE(quantizeUniform(8.f, 5.f), 10.f);
        const Model m = denseModel({{{1, 1}, {8.f}}});
        QCOMPARE(kernelOf(run(m, CompressionPlan::uniform(5.f, 0.f)), 0), std::vector<float>{10.f});
    }

    void tiesRoundHalfAwayFromZero() {
        QCOMPARE(quantizeUniform(2.5f, 1.f), 3.f);
        QCOMPARE(quantizeUniform(-2.5f, 1.f), -3.f);
        QCOMPARE(quantizeUniform(0.5f, 1.f), 1.f);
        QCOMPARE(quantizeUniform(-0.5f, 1.f), -1.f);
        QCOMPARE(quantizeUniform(1.5f, 1.f), 2.f);
        QCOMPARE(quantizeUniform(2.4999998f, 1.f), 2.f);
        QCOMPARE(quantizeUniform(7.5f, 5.f), 10.f);  // 7.5 / 5 = 1.5 exactly
        const Model m = denseModel({{{4, 1}, {2.5f, -2.5f, 0.5f, -1.5f}}});
        QCOMPARE(kernelOf(run(m, CompressionPlan::uniform(1.f, 0.f)), 0),
                 (std::vector<float>{3.f, -3.f, 1.f, -2.f}));
    }

    void roundHalfAwayEqualsStdRound() {
        std::mt19937 rng(7);
        std::uniform_int_distribution<std::uint32_t> bits;
        for (int i = 0; i < 2000000; ++i) {
            std::uint32_t b = bits(rng);
            float x;
            std::memcpy(&x, &b, 4);
            if (std::isnan(x)) continue;
            const float a = roundHalfAway(x), e = std::round(x);
            if (std::memcmp(&a, &e, 4) != 0)
                QFAIL(qPrintable(QString("x=%1 got %2 want %3").arg(x).arg(a).arg(e)));
        }
        for (float x :
             {0.49999997f, -0.49999997f, 8388607.5f, -8388607.5f, 1e30f, INFINITY, -INFINITY, -0.f})
            QCOMPARE(roundHalfAway(x), std::round(x));
    }

    void quantizeIsIdempotent() {
        const auto w = randomWeights(5000, 1);
        for (float alpha : {0.001f, 0.01f, 0.05f, 0.3f}) {
            const Model m = denseModel({{{100, 50}, w}});
            const auto once = kernelOf(run(m, CompressionPlan::uniform(alpha, 0.f)), 0);
            const Model m2 = denseModel({{{100, 50}, once}});
            const auto twice = kernelOf(run(m2, CompressionPlan::uniform(alpha, 0.f)), 0);
            QVERIFY(once == twice);
        }
        const AffineQuantizer q = makeAsymmetricQuantizer(-0.3f, 0.7f, 4);
        for (float v : w) QCOMPARE(q.apply(q.apply(v)), q.apply(v));
    }

    void errorIsAtMostHalfAStep() {
        const auto w = randomWeights(20000, 2);
        const Model m = denseModel({{{200, 100}, w}});
        for (float alpha : {0.002f, 0.02f, 0.1f}) {
            const auto q = kernelOf(run(m, CompressionPlan::uniform(alpha, 0.f)), 0);
            for (std::size_t i = 0; i < w.size(); ++i) {
                // float32 rounding of w / alpha and q * alpha adds at most a few ulps of w.
                const double bound =
                    alpha / 2.0 + 4.0 * std::numeric_limits<float>::epsilon() * std::fabs(w[i]);
                QVERIFY2(std::fabs(static_cast<double>(q[i]) - w[i]) <= bound,
                         qPrintable(QString::number(i)));
            }
        }
        CompressionPlan plan;
        plan.defaults.quant.bits = 4;
        plan.defaults.quant.granularity = Granularity::Channel;
        const auto r = run(m, plan);
        const auto q = kernelOf(r, 0);
        const auto& steps = r.grids[0].steps;
        QCOMPARE(static_cast<int>(steps.size()), 100);
        for (std::size_t i = 0; i < w.size(); ++i)
            QVERIFY(std::fabs(static_cast<double>(q[i]) - w[i]) <=
                    steps[i % 100] / 2.0 * (1 + 1e-5));
    }

    void sparsityNeverDecreasesAsRhoGrows() {
        const Model m = denseModel({{{300, 40}, randomWeights(12000, 3)}});
        double last = -1.0;
        for (int k = 0; k <= 40; ++k) {
            const auto r = run(m, CompressionPlan::uniform(0.f, 0.01f * k));
            QVERIFY(r.total.weights.sparsity >= last);
            last = r.total.weights.sparsity;
        }
        QVERIFY(last > 0.9);
    }

    void exactZeroCountsByHand() {
        // |W| < 0.1 pruned: 0, 0.05, -0.02 (three). -0.1 and 0.1 stay (>=).
        const std::vector<float> w{-0.3f, -0.1f, 0.f, 0.05f, 0.1f, 0.2f, 0.5f, -0.02f};
        const Model m = denseModel({{{8, 1}, w}});
        auto r = run(m, CompressionPlan::uniform(0.f, 0.1f));
        QCOMPARE(r.layers[0].kernel.zeros, std::int64_t(3));
        QCOMPARE(r.layers[0].kernel.originalZeros, std::int64_t(1));
        QCOMPARE(kernelOf(r, 0),
                 (std::vector<float>{-0.3f, -0.1f, 0.f, 0.f, 0.1f, 0.2f, 0.5f, 0.f}));
        // With alpha 0.25: -0.3 -> -0.25, -0.1 -> 0, 0.1 -> 0, 0.2 -> 0.25, 0.5 -> 0.5: five zeros.
        r = run(m, CompressionPlan::uniform(0.25f, 0.1f));
        QCOMPARE(r.layers[0].kernel.zeros, std::int64_t(5));
        QCOMPARE(r.layers[0].kernel.sparsity, 5.0 / 8.0);
        QCOMPARE(r.layers[0].kernel.levels,
                 std::int64_t(4));  // -0.25, 0, 0.25, 0.5 -> codes -1, 0, 1, 2
    }

    void levelsAndEffectiveBitsByHand() {
        QCOMPARE(effectiveBits(0), 0);
        QCOMPARE(effectiveBits(1), 0);
        QCOMPARE(effectiveBits(2), 1);
        QCOMPARE(effectiveBits(3), 2);
        QCOMPARE(effectiveBits(4), 2);
        QCOMPARE(effectiveBits(5), 3);
        QCOMPARE(effectiveBits(256), 8);
        QCOMPARE(effectiveBits(257), 9);
        // alpha 0.5: codes -2, -1, 0, 0, 1, 2 -> 5 levels, 3 bits.
        const Model m = denseModel({{{6, 1}, {-1.f, -0.4f, 0.f, 0.2f, 0.6f, 1.f}}});
        const auto r = run(m, CompressionPlan::uniform(0.5f, 0.f));
        QCOMPARE(r.layers[0].kernel.levels, std::int64_t(5));
        QCOMPARE(r.layers[0].kernel.effectiveBits, 3);
        QCOMPARE(r.grids[0].codeMin, -2);
        QCOMPARE(r.grids[0].codeMax, 2);
        // Not quantized: distinct floats. Pruning 0.2 and 0 to zero leaves -1, -0.4, 0, 0.6, 1.
        const auto p = run(m, CompressionPlan::uniform(0.f, 0.3f));
        QCOMPARE(p.layers[0].kernel.levels, std::int64_t(5));
        // 2-bit symmetric per tensor: step 1, codes -1, 0, 0, 0, 1, 1 -> 3 levels, 2 bits.
        CompressionPlan plan;
        plan.defaults.quant.bits = 2;
        const auto b = run(m, plan);
        QCOMPARE(kernelOf(b, 0), (std::vector<float>{-1.f, -0.f, 0.f, 0.f, 1.f, 1.f}));
        QCOMPARE(b.layers[0].kernel.levels, std::int64_t(3));
        QCOMPARE(b.layers[0].kernel.effectiveBits, 2);
    }

    void textbookModePrunesNegatives() {
        const Model m = denseModel({{{5, 1}, {-0.5f, -0.01f, 0.01f, 0.03f, 0.5f}}});
        CompressionPlan plan = CompressionPlan::uniform(0.f, 0.f);
        plan.defaults.prune.method = PruneMethod::TextbookThreshold;
        auto r = run(m, plan);
        QCOMPARE(kernelOf(r, 0), (std::vector<float>{0.f, 0.f, 0.01f, 0.03f, 0.5f}));
        plan.defaults.prune.rho = 0.02f;
        r = run(m, plan);
        QCOMPARE(kernelOf(r, 0), (std::vector<float>{0.f, 0.f, 0.f, 0.03f, 0.5f}));
        // The default rule keeps the large negative weight.
        QCOMPARE(kernelOf(run(m, CompressionPlan::uniform(0.f, 0.02f)), 0),
                 (std::vector<float>{-0.5f, 0.f, 0.f, 0.03f, 0.5f}));
    }

    void nmLeavesExactlyNPerM() {
        const auto w = randomWeights(10 * 3, 4);  // rows 10 (two runs of 4 and one of 2), 3 columns
        const Model m = denseModel({{{10, 3}, w}});
        CompressionPlan plan;
        plan.defaults.prune.method = PruneMethod::NM;
        plan.defaults.prune.n = 2;
        plan.defaults.prune.m = 4;
        const auto out = kernelOf(run(m, plan), 0);
        for (int c = 0; c < 3; ++c)
            for (int r0 = 0; r0 < 10; r0 += 4) {
                const int len = std::min(4, 10 - r0);
                int nonzero = 0;
                float smallestKept = INFINITY, largestPruned = 0.f;
                for (int r = r0; r < r0 + len; ++r) {
                    const float v = out[r * 3 + c], orig = std::fabs(w[r * 3 + c]);
                    if (v != 0.f) {
                        ++nonzero;
                        QCOMPARE(v, w[r * 3 + c]);
                        smallestKept = std::min(smallestKept, orig);
                    } else {
                        largestPruned = std::max(largestPruned, orig);
                    }
                }
                QCOMPARE(nonzero, std::min(2, len));
                QVERIFY(smallestKept >= largestPruned);
            }
    }

    void targetSparsityHitsTheCount() {
        std::vector<float> w = randomWeights(1000, 5);
        for (int i = 0; i < 100; ++i) w[i * 7] = 0.05f;  // many ties at one magnitude
        const Model m = denseModel({{{100, 10}, w}, {{10, 7}, randomWeights(70, 6)}});
        CompressionPlan plan;
        plan.defaults.prune.method = PruneMethod::TargetSparsity;
        for (double s : {0.0, 0.1, 0.3, 0.333, 0.9, 1.0}) {
            plan.defaults.prune.sparsity = s;
            plan.defaults.prune.scope = SparsityScope::PerLayer;
            auto r = run(m, plan);
            QCOMPARE(r.layers[0].kernel.zeros, std::llround(s * 1000));
            QCOMPARE(r.layers[1].kernel.zeros, std::llround(s * 70));
            plan.defaults.prune.scope = SparsityScope::Global;
            r = run(m, plan);
            QCOMPARE(r.total.weights.zeros, std::llround(s * 1070));
            // Global: every pruned weight is no larger than every kept one.
            float maxPruned = 0.f, minKept = INFINITY;
            for (int layer = 0; layer < 2; ++layer) {
                const auto orig = m.layers[layer].kernel.floats();
                const auto out = kernelOf(r, layer);
                for (std::size_t i = 0; i < out.size(); ++i) {
                    if (out[i] == 0.f)
                        maxPruned = std::max(maxPruned, std::fabs(orig[i]));
                    else
                        minKept = std::min(minKept, std::fabs(orig[i]));
                }
            }
            QVERIFY(maxPruned <= minKept);
        }
    }

    void structuredPruningZeroesWholeFilters() {
        // Columns (in = 5, out = 4): A = 1,1,1,1,1 (L1 5, L2 2.24); B = 3,0,0,0,0 (L1 3, L2 3);
        // C and D are large. Pruning one column: L1 removes B, L2 removes A.
        std::vector<float> w(20);
        for (int r = 0; r < 5; ++r) {
            w[r * 4 + 0] = 1.f;
            w[r * 4 + 1] = r == 0 ? 3.f : 0.f;
            w[r * 4 + 2] = 4.f;
            w[r * 4 + 3] = -5.f;
        }
        const Model m = denseModel({{{5, 4}, w}});
        CompressionPlan plan;
        plan.defaults.prune.method = PruneMethod::StructuredL1;
        plan.defaults.prune.sparsity = 0.25;
        auto out = kernelOf(run(m, plan), 0);
        for (int r = 0; r < 5; ++r) {
            QCOMPARE(out[r * 4 + 1], 0.f);
            QCOMPARE(out[r * 4 + 0], 1.f);
        }
        plan.defaults.prune.method = PruneMethod::StructuredL2;
        out = kernelOf(run(m, plan), 0);
        for (int r = 0; r < 5; ++r) {
            QCOMPARE(out[r * 4 + 0], 0.f);
            QCOMPARE(out[r * 4 + 1], r == 0 ? 3.f : 0.f);
        }
        // Conv2D (3, 3, 2, 8) kernel at 50%: exactly 4 filters entirely zero, the others untouched.
        Model conv;
        conv.sourcePath = "hand-made";
        conv.inputShape = {6, 6, 2};
        Layer l;
        l.name = "conv";
        l.className = "Conv2D";
        l.kind = LayerKind::Conv2D;
        l.conv.filters = 8;
        l.conv.kernelH = l.conv.kernelW = 3;
        const auto cw = randomWeights(3 * 3 * 2 * 8, 9);
        l.kernel = Tensor::fromFloats({3, 3, 2, 8}, cw);
        l.bias = Tensor::zeros({8});
        conv.layers.push_back(l);
        conv.inferShapes();
        plan.defaults.prune.sparsity = 0.5;
        const auto co = kernelOf(run(conv, plan), 0);
        int zeroFilters = 0;
        for (int f = 0; f < 8; ++f) {
            int zeros = 0;
            for (int k = 0; k < 18; ++k) zeros += co[k * 8 + f] == 0.f;
            if (zeros == 18)
                ++zeroFilters;
            else
                for (int k = 0; k < 18; ++k) QCOMPARE(co[k * 8 + f], cw[k * 8 + f]);
        }
        QCOMPARE(zeroFilters, 4);
    }

    void encodedSizeByHand() {
        // 16 weights (in 8, out 2), alpha 1: values -2..2 -> codes span 5 -> 3 bits.
        std::vector<float> w{-2, -1, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        const Model m = denseModel({{{8, 2}, w}});
        const auto r = run(m, CompressionPlan::uniform(1.f, 0.f));
        const auto& s = r.layers[0].kernel.size;
        // dense 16 * 3 bits = 6 bytes; bitmask 2 + ceil(4 * 3 / 8) = 4 bytes; CSR (2 + 1) * 4 + 4 =
        // 16 + 2. Plus 8 bytes of step and code offset. Bitmask wins: 4 + 8 = 12.
        QCOMPARE(s.codeBits, 3);
        QCOMPARE(s.sparse, SparseFormat::Bitmask);
        QCOMPARE(s.bytes, std::int64_t(12));
        QCOMPARE(s.float32Bytes, std::int64_t(64));
        QCOMPARE(s.ratio, 64.0 / 12.0);

        EncodingInput in;
        in.elements = 10000;
        in.nonzeros = 10;
        in.outputs = 100;
        in.reduction = 100;
        in.codeBits = 8;
        // dense 10000; bitmask 1250 + 10; CSR 101 * 4 + 10 * 1 + 10 = 424.
        auto e = encodeSize(in);
        QCOMPARE(e.sparse, SparseFormat::Csr);
        QCOMPARE(e.bytes, std::int64_t(424));
        in.nonzeros = 9000;  // dense 10000 beats bitmask 1250 + 9000
        e = encodeSize(in);
        QCOMPARE(e.sparse, SparseFormat::Dense);
        QCOMPARE(e.bytes, std::int64_t(10000));
        in.codeBits = 4;
        in.nonzeros = 5000;  // dense 5000; bitmask 1250 + 2500 = 3750; CSR 404 + 5000 + 2500
        in.scaleBytes = 400;
        e = encodeSize(in);
        QCOMPARE(e.sparse, SparseFormat::Bitmask);
        QCOMPARE(e.bytes, std::int64_t(3750 + 400));
    }

    void biasesAndOverridesFollowThePlan() {
        const auto w = randomWeights(40, 10);
        Model m = denseModel({{{4, 4}, {w.begin(), w.begin() + 16}},
                              {{4, 4}, {w.begin() + 16, w.begin() + 32}},
                              {{4, 2}, {w.begin() + 32, w.begin() + 40}}});
        m.layers[1].bias = Tensor::fromFloats({4}, {0.123f, -0.26f, 0.5f, 0.01f});
        CompressionPlan plan = CompressionPlan::uniform(0.1f, 0.f);
        auto r = run(m, plan);
        QVERIFY(r.model.layers[1].bias.floats()[0] == 0.123f);  // biases stay float32
        plan.includeBiases = true;
        r = run(m, plan);
        QCOMPARE(r.model.layers[1].bias.floats()[0], 0.1f);
        QCOMPARE(r.layers[1].others.size(), std::size_t(1));
        plan.includeBiases = false;
        plan.keepFirstFloat = plan.keepLastFloat = true;
        r = run(m, plan);
        QVERIFY(!r.layers[0].compressed && r.layers[1].compressed && !r.layers[2].compressed);
        QVERIFY(kernelOf(r, 0) == std::vector<float>(w.begin(), w.begin() + 16));
        QCOMPARE(r.layers[0].kernel.mse, 0.0);
        plan = CompressionPlan::uniform(0.1f, 0.f);
        plan.onlyLayer = "dense_2";
        r = run(m, plan);
        QVERIFY(!r.layers[0].compressed && !r.layers[1].compressed && r.layers[2].compressed);
        plan.onlyLayer.clear();
        LayerSettings coarse;
        coarse.quant.alpha = 1.f;
        plan.overrides.push_back({"dense_1", false, coarse});
        plan.overrides.push_back({"dense_0", true, std::nullopt});
        r = run(m, plan);
        QVERIFY(!r.layers[0].compressed);
        for (float v : kernelOf(r, 1)) QVERIFY(v == 0.f || std::fabs(v) == 1.f);
        plan.onlyLayer = "nope";
        QVERIFY_THROWS_EXCEPTION(Error, run(m, plan));
    }

    void mseClippingPicksTheBestRatio() {
        // 3-bit symmetric with one outlier: clipping trades the outlier's error for finer steps.
        std::vector<float> w = randomWeights(400, 12, 0.1f);
        w[17] = 1.5f;
        const Model m = denseModel({{{400, 1}, w}});
        CompressionPlan plan;
        plan.defaults.quant.bits = 3;
        const auto plain = run(m, plan);
        plan.defaults.quant.clip = ClipMethod::Mse;
        const auto clipped = run(m, plan);
        QVERIFY(clipped.layers[0].kernel.mse < plain.layers[0].kernel.mse);
        // Naive search over the same candidate ratios, from the definition.
        float maxAbs = 0;
        for (float v : w) maxAbs = std::max(maxAbs, std::fabs(v));
        double best = INFINITY;
        float bestStep = 0;
        for (int i = 0; i <= 25; ++i) {
            const float ratio = 1.f - 0.02f * static_cast<float>(i);
            const float step = maxAbs * ratio / 3.f;
            double e = 0;
            for (float v : w) {
                const float q = std::clamp(std::round(v / step), -3.f, 3.f) * step;
                e += (static_cast<double>(q) - v) * (static_cast<double>(q) - v);
            }
            if (e < best) {
                best = e;
                bestStep = step;
            }
        }
        QCOMPARE(clipped.grids[0].steps[0], bestStep);
    }

    void batchNormParametersOnlyWhenAskedFor() {
        Model m = denseModel({{{3, 2}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}}});
        Layer bn;
        bn.name = "bn";
        bn.className = "BatchNormalization";
        bn.kind = LayerKind::BatchNormalization;
        bn.gamma = Tensor::fromFloats({2}, {1.26f, 0.74f});
        bn.beta = Tensor::fromFloats({2}, {0.04f, -0.13f});
        bn.movingMean = Tensor::fromFloats({2}, {0.5f, 0.25f});
        bn.movingVariance = Tensor::fromFloats({2}, {1.f, 2.f});
        m.layers.push_back(bn);
        m.inferShapes();
        CompressionPlan plan = CompressionPlan::uniform(0.5f, 0.f);
        auto r = run(m, plan);
        QCOMPARE(r.model.layers[1].gamma.floats()[0], 1.26f);
        QCOMPARE(r.layers.size(), std::size_t(1));
        plan.includeBatchNorm = true;
        r = run(m, plan);
        QCOMPARE(r.model.layers[1].gamma.floats()[0], 1.5f);  // 1.26 / 0.5 = 2.52 -> 3
        QCOMPARE(r.model.layers[1].gamma.floats()[1], 0.5f);  // 1.48 -> 1
        QCOMPARE(r.model.layers[1].beta.floats()[1], 0.f);    // -0.26 -> 0 (counted as a zero)
        QCOMPARE(r.layers.size(), std::size_t(2));
        QCOMPARE(r.layers[1].others.size(), std::size_t(4));
        QCOMPARE(r.layers[1].others[0].role, std::string("gamma"));
    }

    void badSettingsAreRejected() {
        const Model m = denseModel({{{2, 2}, {1, 2, 3, 4}}});
        CompressionPlan plan;
        plan.defaults.quant.bits = 9;
        QVERIFY_THROWS_EXCEPTION(Error, run(m, plan));
        plan.defaults.quant.bits = 4;
        plan.defaults.quant.granularity = Granularity::Group;
        plan.defaults.quant.groupSize = 48;
        QVERIFY_THROWS_EXCEPTION(Error, run(m, plan));
        plan = CompressionPlan::uniform(-1.f, 0.f);
        QVERIFY_THROWS_EXCEPTION(Error, run(m, plan));
        plan = {};
        plan.defaults.prune.method = PruneMethod::NM;
        plan.defaults.prune.n = 5;
        QVERIFY_THROWS_EXCEPTION(Error, run(m, plan));
        plan = {};
        plan.defaults.prune.method = PruneMethod::TargetSparsity;
        plan.defaults.prune.sparsity = 1.5;
        QVERIFY_THROWS_EXCEPTION(Error, run(m, plan));
    }
};

QTEST_GUILESS_MAIN(CompressSemanticsTest)
#include "compress_semantics_test.moc"
