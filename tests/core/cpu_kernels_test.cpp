// The CPU kernels: each fast kernel against its naive reference on random shapes, and the
// references themselves against small examples worked out by hand.
#include <QtTest>
#include <cmath>
#include <random>
#include <vector>

#include "core/infer/cpu/activations.h"
#include "core/infer/cpu/batch_norm.h"
#include "core/infer/cpu/conv2d.h"
#include "core/infer/cpu/dense.h"
#include "core/infer/cpu/gemm.h"
#include "core/infer/cpu/pooling.h"

using namespace cwb;

namespace {

std::vector<float> randomVector(std::mt19937& rng, std::size_t n, float lo = -1.f, float hi = 1.f) {
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

// Largest |a - b| / (1 + |b|): float kernels against double references. Float sums of a
// few hundred terms land within ~1e-5 of it; a wrong index or padding is off by O(1).
double maxRelativeError(const std::vector<float>& a, const std::vector<float>& b) {
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        worst = std::max(worst, std::fabs(double(a[i]) - b[i]) / (1 + std::fabs(b[i])));
    return worst;
}

ActivationSpec spec(ActivationKind kind, int rowLength = 1, float alpha = 0.f) {
    ActivationSpec s;
    s.kind = kind;
    s.rowLength = rowLength;
    s.alpha = alpha;
    return s;
}

std::vector<float> iota(int n) {
    std::vector<float> v(n);
    for (int i = 0; i < n; ++i) v[i] = float(i + 1);
    return v;
}

struct ConvCase {
    int batch, h, w, cin, filters, k, stride;
    Padding padding;
    ActivationKind act;
};

std::vector<cpu::ConvAlgorithm> fastConvAlgorithms() {
    std::vector<cpu::ConvAlgorithm> algorithms{cpu::ConvAlgorithm::Im2colGemm};
    if (cpu::convAlgorithmAvailable(cpu::ConvAlgorithm::Direct))
        algorithms.push_back(cpu::ConvAlgorithm::Direct);
    return algorithms;
}

}  // namespace

class CpuKernelsTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { cpu::setBlasThreads(1); }

    // ---- convolution -------------------------------------------------------------------

    void convMatchesReferenceOnRandomShapes() {
        std::mt19937 rng(7);
        std::vector<ConvCase> cases{
            {1, 28, 28, 1, 32, 3, 1, Padding::Valid, ActivationKind::Relu},
            {7, 13, 13, 32, 64, 3, 1, Padding::Valid, ActivationKind::Relu},
            {7, 6, 6, 64, 128, 3, 1, Padding::Valid, ActivationKind::Linear},
            {7, 9, 11, 3, 5, 3, 2, Padding::Same, ActivationKind::Tanh},
            {1, 7, 5, 17, 33, 5, 1, Padding::Same, ActivationKind::Relu},
            {7, 8, 8, 4, 70, 2, 2, Padding::Same, ActivationKind::Linear},
            {1, 10, 10, 8, 16, 4, 3, Padding::Same, ActivationKind::Sigmoid},
            {7, 10, 9, 8, 16, 4, 3, Padding::Valid, ActivationKind::Relu},
            {1, 5, 5, 6, 10, 1, 1, Padding::Valid, ActivationKind::Softmax},  // pointwise
            {7, 5, 7, 3, 9, 1, 2, Padding::Same, ActivationKind::Relu},
            {1, 3, 3, 2, 1, 3, 1, Padding::Same, ActivationKind::Linear},
            {7, 30, 29, 2, 48, 3, 1, Padding::Same,
             ActivationKind::Relu},  // rows wider than one tile
        };
        // And random ones: odd sizes, strides 1..3, kernels 1..5, both paddings.
        std::uniform_int_distribution<int> size(3, 14), ch(1, 20), fil(1, 80), ker(1, 5), str(1, 3),
            pad(0, 1);
        for (int i = 0; i < 24; ++i) {
            ConvCase c{i % 2 ? 7 : 1,
                       size(rng),
                       size(rng),
                       ch(rng),
                       fil(rng),
                       ker(rng),
                       str(rng),
                       pad(rng) ? Padding::Same : Padding::Valid,
                       i % 3 ? ActivationKind::Relu : ActivationKind::Linear};
            if (c.padding == Padding::Valid && (c.h < c.k || c.w < c.k)) c.padding = Padding::Same;
            cases.push_back(c);
        }
        for (const ConvCase& c : cases) {
            const Conv2DConfig config{c.filters, c.k, c.k, c.stride, c.stride, c.padding};
            const Window2D window =
                makeWindow2D(c.h, c.w, c.cin, c.k, c.k, c.stride, c.stride, c.padding);
            const auto input = randomVector(rng, std::size_t(c.batch) * c.h * c.w * c.cin);
            const auto kernel = randomVector(rng, std::size_t(c.k) * c.k * c.cin * c.filters);
            const auto bias = randomVector(rng, c.filters);
            const std::size_t outSize =
                std::size_t(c.batch) * window.outH * window.outW * c.filters;
            std::vector<float> linear(outSize), expected(outSize);
            cpu::conv2dReference(input.data(), c.batch, c.h, c.w, c.cin, config, kernel.data(),
                                 bias.data(), linear.data());
            const ActivationSpec act = spec(c.act, c.filters);
            cpu::activationReference(act, linear.data(), long(outSize), expected.data());
            for (auto algorithm : fastConvAlgorithms()) {
                const cpu::ConvSettings settings{algorithm, 0};
                std::vector<float> scratch(cpu::conv2dScratchFloats(window, settings) + 1);
                std::vector<float> out(outSize, -99.f);
                cpu::conv2d(window, c.filters, kernel.data(), bias.data(), act, input.data(),
                            c.batch, out.data(), scratch.data(), settings);
                const double err = maxRelativeError(out, expected);
                const QByteArray what =
                    QString("batch %1 %2x%3x%4 -> %5 k%6 s%7 %8 algorithm %9: error %10")
                        .arg(c.batch)
                        .arg(c.h)
                        .arg(c.w)
                        .arg(c.cin)
                        .arg(c.filters)
                        .arg(c.k)
                        .arg(c.stride)
                        .arg(c.padding == Padding::Same ? "same" : "valid")
                        .arg(int(algorithm))
                        .arg(err)
                        .toUtf8();
                QVERIFY2(err < 1e-5, what.constData());
            }
        }
    }

    void convWithoutBiasAndSmallPatchBlocks() {
        std::mt19937 rng(3);
        const Window2D window = makeWindow2D(9, 9, 5, 3, 3, 1, 1, Padding::Same);
        const Conv2DConfig config{12, 3, 3, 1, 1, Padding::Same};
        const auto input = randomVector(rng, 3 * 81 * 5), kernel = randomVector(rng, 9 * 5 * 12);
        std::vector<float> expected(3 * 81 * 12);
        cpu::conv2dReference(input.data(), 3, 9, 9, 5, config, kernel.data(), nullptr,
                             expected.data());
        for (long long blockRows : {1LL, 7LL, 100LL, 243LL}) {  // blocks that split images and rows
            const cpu::ConvSettings settings{cpu::ConvAlgorithm::Im2colGemm, blockRows};
            std::vector<float> scratch(cpu::conv2dScratchFloats(window, settings)),
                out(expected.size());
            cpu::conv2d(window, 12, kernel.data(), nullptr, {}, input.data(), 3, out.data(),
                        scratch.data(), settings);
            QVERIFY(maxRelativeError(out, expected) < 1e-5);
        }
        if (cpu::convAlgorithmAvailable(cpu::ConvAlgorithm::Direct)) {
            const cpu::ConvSettings settings{cpu::ConvAlgorithm::Direct, 0};
            std::vector<float> scratch(cpu::conv2dScratchFloats(window, settings)),
                out(expected.size());
            cpu::conv2d(window, 12, kernel.data(), nullptr, {}, input.data(), 3, out.data(),
                        scratch.data(), settings);
            QVERIFY(maxRelativeError(out, expected) < 1e-5);
        }
    }

    void convReferenceByHandValid() {
        // Input 3x3 = [1 2 3; 4 5 6; 7 8 9], kernel 2x2 = [1 2; 3 4], bias 1, valid, stride 1:
        // out(0,0) = 1*1 + 2*2 + 4*3 + 5*4 + 1 = 38, out(0,1) = 2 + 6 + 15 + 24 + 1 = 48,
        // out(1,0) = 4 + 10 + 21 + 32 + 1 = 68,      out(1,1) = 5 + 12 + 24 + 36 + 1 = 78.
        const auto input = iota(9);
        const std::vector<float> kernel{1, 2, 3, 4}, bias{1};
        std::vector<float> out(4);
        cpu::conv2dReference(input.data(), 1, 3, 3, 1, {1, 2, 2, 1, 1, Padding::Valid},
                             kernel.data(), bias.data(), out.data());
        QCOMPARE(out, (std::vector<float>{38, 48, 68, 78}));
        checkFastConv(input, 3, 3, {1, 2, 2, 1, 1, Padding::Valid}, kernel, bias, out);
    }

    void convSamePaddingIsAsymmetricByHand() {
        // Input 4x4 = 1..16 row-major, kernel 3x3 of ones, stride 2, 'same': out = 2x2 and
        // total padding = (2 - 1) * 2 + 3 - 4 = 1 per axis, all of it on the bottom/right.
        // out(0,0) = rows 0-2 x cols 0-2 = (1+2+3) + (5+6+7) + (9+10+11) = 54
        // out(0,1) = rows 0-2 x cols 2-3 = 3+4 + 7+8 + 11+12 = 45
        // out(1,0) = rows 2-3 x cols 0-2 = 9+10+11 + 13+14+15 = 72
        // out(1,1) = rows 2-3 x cols 2-3 = 11+12 + 15+16 = 54
        // (Padding on the top/left instead would give out(0,0) = 1+2+5+6 = 14.)
        const Window2D w = makeWindow2D(4, 4, 1, 3, 3, 2, 2, Padding::Same);
        QCOMPARE(w.outH, 2);
        QCOMPARE(w.padTop, 0);
        QCOMPARE(w.padLeft, 0);
        const auto input = iota(16);
        const std::vector<float> kernel(9, 1.f);
        std::vector<float> out(4);
        const Conv2DConfig config{1, 3, 3, 2, 2, Padding::Same};
        cpu::conv2dReference(input.data(), 1, 4, 4, 1, config, kernel.data(), nullptr, out.data());
        QCOMPARE(out, (std::vector<float>{54, 45, 72, 54}));
        checkFastConv(input, 4, 4, config, kernel, {0.f}, out);

        // Kernel 2x2 = [1 2; 3 4], stride 1, 'same' on 4x4: total padding 1, on the bottom/right.
        // out(0,0) = 1*1 + 2*2 + 5*3 + 6*4 = 44; out(0,3) = 4*1 + 8*3 = 28 (right column is
        // padding); out(3,0) = 13*1 + 14*2 = 41 (bottom row is padding); out(3,3) = 16.
        const std::vector<float> k2{1, 2, 3, 4};
        std::vector<float> out2(16);
        const Conv2DConfig config2{1, 2, 2, 1, 1, Padding::Same};
        cpu::conv2dReference(input.data(), 1, 4, 4, 1, config2, k2.data(), nullptr, out2.data());
        QCOMPARE(out2[0], 44.f);
        QCOMPARE(out2[3], 28.f);
        QCOMPARE(out2[12], 41.f);
        QCOMPARE(out2[15], 16.f);
        checkFastConv(input, 4, 4, config2, k2, {0.f}, out2);

        // Odd total padding with a 4-wide window: 'same' on 6, stride 1: total 3, top 1, bottom 2.
        const Window2D w4 = makeWindow2D(6, 6, 1, 4, 4, 1, 1, Padding::Same);
        QCOMPARE(w4.padTop, 1);
        QCOMPARE(w4.outH, 6);
    }

    void convMultiChannelByHand() {
        // 1x1 input with 2 channels (3, 5); kernel 1x1x2x2 = [[1, 10], [100, 1000]] (rows are
        // input channels): filter 0 = 3*1 + 5*100 = 503, filter 1 = 3*10 + 5*1000 = 5030.
        const std::vector<float> input{3, 5}, kernel{1, 10, 100, 1000};
        std::vector<float> out(2);
        const Conv2DConfig config{2, 1, 1, 1, 1, Padding::Valid};
        cpu::conv2dReference(input.data(), 1, 1, 1, 2, config, kernel.data(), nullptr, out.data());
        QCOMPARE(out, (std::vector<float>{503, 5030}));
        checkFastConv(input, 1, 1, config, kernel, {0.f, 0.f}, out, 2);
    }

    // ---- pooling -----------------------------------------------------------------------

    void poolReferenceByHand() {
        // Input 3x3 = [1 2 3; 4 5 6; 7 8 9], pool 2x2 stride 2.
        // 'same': out 2x2, total padding (2-1)*2 + 2 - 3 = 1 on the bottom/right.
        //   max: [max(1,2,4,5), max(3,6); max(7,8), 9] = [5 6; 8 9]
        //   avg over the non-padded elements: [(1+2+4+5)/4, (3+6)/2; (7+8)/2, 9/1] = [3 4.5; 7.5 9]
        // 'valid': out 1x1: max 5, avg 3.
        const auto input = iota(9);
        const PoolConfig same{2, 2, 2, 2, Padding::Same}, valid{2, 2, 2, 2, Padding::Valid};
        std::vector<float> out(4);
        cpu::maxPool2dReference(input.data(), 1, 3, 3, 1, same, out.data());
        QCOMPARE(out, (std::vector<float>{5, 6, 8, 9}));
        checkFastPool(true, input, 3, 3, 1, same, out);
        cpu::avgPool2dReference(input.data(), 1, 3, 3, 1, same, out.data());
        QCOMPARE(out, (std::vector<float>{3, 4.5f, 7.5f, 9}));
        checkFastPool(false, input, 3, 3, 1, same, out);
        std::vector<float> one(1);
        cpu::maxPool2dReference(input.data(), 1, 3, 3, 1, valid, one.data());
        QCOMPARE(one[0], 5.f);
        checkFastPool(true, input, 3, 3, 1, valid, one);
        cpu::avgPool2dReference(input.data(), 1, 3, 3, 1, valid, one.data());
        QCOMPARE(one[0], 3.f);
        checkFastPool(false, input, 3, 3, 1, valid, one);
    }

    void maxPoolIgnoresPaddingForNegativeInputs() {
        // All inputs negative: a padded zero must never win. 3x3 of -(1..9), pool 2 stride 2 same:
        // out(1,1) is the lone -9, not 0.
        auto input = iota(9);
        for (float& v : input) v = -v;
        std::vector<float> out(4);
        const PoolConfig same{2, 2, 2, 2, Padding::Same};
        cpu::maxPool2dReference(input.data(), 1, 3, 3, 1, same, out.data());
        QCOMPARE(out, (std::vector<float>{-1, -3, -7, -9}));
        checkFastPool(true, input, 3, 3, 1, same, out);
    }

    void poolMatchesReferenceOnRandomShapes() {
        std::mt19937 rng(11);
        std::uniform_int_distribution<int> size(2, 15), ch(1, 70), win(1, 4), str(1, 3), pad(0, 1);
        for (int i = 0; i < 40; ++i) {
            const int batch = i % 2 ? 7 : 1, h = size(rng), w = size(rng), c = ch(rng),
                      k = win(rng), s = str(rng);
            Padding padding = pad(rng) ? Padding::Same : Padding::Valid;
            if (h < k || w < k) padding = Padding::Same;
            const PoolConfig config{k, k, s, s, padding};
            const Window2D window = makeWindow2D(h, w, c, k, k, s, s, padding);
            const auto input = randomVector(rng, std::size_t(batch) * h * w * c);
            const std::size_t outSize = std::size_t(batch) * window.outH * window.outW * c;
            for (bool isMax : {true, false}) {
                std::vector<float> expected(outSize), out(outSize);
                if (isMax) {
                    cpu::maxPool2dReference(input.data(), batch, h, w, c, config, expected.data());
                    cpu::maxPool2d(window, input.data(), batch, out.data());
                    QCOMPARE(out, expected);  // max is exact
                } else {
                    cpu::avgPool2dReference(input.data(), batch, h, w, c, config, expected.data());
                    cpu::avgPool2d(window, input.data(), batch, out.data());
                    QVERIFY(maxRelativeError(out, expected) < 1e-6);
                }
            }
        }
    }

    // ---- dense -------------------------------------------------------------------------

    void denseByHand() {
        // x = [1 2], kernel (in 2, out 3) = [1 2 3; 4 5 6], bias [0.5 0 -10]:
        // y = [1+8+0.5, 2+10, 3+12-10] = [9.5 12 5].
        const std::vector<float> x{1, 2}, kernel{1, 2, 3, 4, 5, 6}, bias{0.5f, 0, -10};
        std::vector<float> y(3);
        cpu::denseReference(x.data(), 1, 2, 3, kernel.data(), bias.data(), y.data());
        QCOMPARE(y, (std::vector<float>{9.5f, 12, 5}));
        std::vector<float> fast(3);
        cpu::dense(2, 3, kernel.data(), bias.data(), {}, x.data(), 1, fast.data());
        QCOMPARE(fast, y);
    }

    void denseMatchesReference() {
        std::mt19937 rng(5);
        for (auto [rows, in, out] : std::vector<std::array<int, 3>>{
                 {1, 784, 256}, {7, 512, 300}, {7, 3, 1}, {13, 33, 10}}) {
            for (auto act : {ActivationKind::Linear, ActivationKind::Relu, ActivationKind::Softmax,
                             ActivationKind::Gelu}) {
                const auto x = randomVector(rng, std::size_t(rows) * in),
                           k = randomVector(rng, std::size_t(in) * out), b = randomVector(rng, out);
                std::vector<float> linear(std::size_t(rows) * out), expected(linear.size()),
                    fast(linear.size());
                cpu::denseReference(x.data(), rows, in, out, k.data(), b.data(), linear.data());
                cpu::activationReference(spec(act, out), linear.data(), long(linear.size()),
                                         expected.data());
                cpu::dense(in, out, k.data(), b.data(), spec(act, out), x.data(), rows,
                           fast.data());
                QVERIFY2(maxRelativeError(fast, expected) < 5e-5,
                         qPrintable(QString("rows %1 in %2 out %3").arg(rows).arg(in).arg(out)));
            }
        }
    }

    // ---- batch normalisation -----------------------------------------------------------

    void batchNormReferenceByHand() {
        // x = [3, 3] over 2 channels; gamma [2, 1], beta [1, 0], mean [1, 3], var [4 - eps, 1 -
        // eps] (so that var + eps is exactly 4 and 1): y0 = 2 * (3 - 1) / 2 + 1 = 3, y1 = 1 * 0 / 1
        // + 0 = 0.
        const float eps = 0.25f;
        const std::vector<float> x{3, 3}, gamma{2, 1}, beta{1, 0}, mean{1, 3},
            var{4 - eps, 1 - eps};
        std::vector<float> y(2);
        cpu::batchNormReference(x.data(), 2, 2, gamma.data(), beta.data(), mean.data(), var.data(),
                                eps, y.data());
        QCOMPARE(y, (std::vector<float>{3, 0}));
        // Without scale and center: y0 = (3 - 1) / 2 = 1.
        cpu::batchNormReference(x.data(), 2, 2, nullptr, nullptr, mean.data(), var.data(), eps,
                                y.data());
        QCOMPARE(y[0], 1.f);
    }

    void channelAffineAppliesScaleShiftAndActivation() {
        const std::vector<float> x{1, -2, 3, -4}, scale{2, 3}, shift{-1, 1};
        std::vector<float> y(4);
        // [1*2-1, -2*3+1, 3*2-1, -4*3+1] = [1, -5, 5, -11], then ReLU.
        cpu::channelAffine(2, scale.data(), shift.data(), spec(ActivationKind::Relu), x.data(), 4,
                           y.data());
        QCOMPARE(y, (std::vector<float>{1, 0, 5, 0}));
    }

    // ---- activations -------------------------------------------------------------------

    void activationsByHand() {
        struct Case {
            ActivationKind kind;
            float alpha, x, expected;
        };
        const std::vector<Case> cases{
            {ActivationKind::Relu, 0, -3, 0},
            {ActivationKind::Relu, 0, 2.5f, 2.5f},
            {ActivationKind::Relu6, 0, 7, 6},
            {ActivationKind::Relu6, 0, -1, 0},
            {ActivationKind::LeakyRelu, 0.3f, -2, -0.6f},
            {ActivationKind::Sigmoid, 0, 0, 0.5f},
            {ActivationKind::Tanh, 0, 0, 0},
            {ActivationKind::Elu, 1, -1, -0.63212056f},  // e^-1 - 1
            {ActivationKind::Selu, 0, 1, 1.0507009873554805f},
            {ActivationKind::Selu, 0, -1, -1.1113307378125628f},  // scale * alpha * (e^-1 - 1)
            {ActivationKind::Softplus, 0, 0, 0.69314718f},        // ln 2
            {ActivationKind::Softplus, 0, 100, 100},
            {ActivationKind::Softplus, 0, -100, 0},
            {ActivationKind::Softsign, 0, 3, 0.75f},
            {ActivationKind::Swish, 0, 0, 0},
            {ActivationKind::Swish, 0, 2, 1.7615942f},              // 2 / (1 + e^-2)
            {ActivationKind::Gelu, 0, 1, 0.84134475f},              // Phi(1), the erf form
            {ActivationKind::HardSigmoid, 0.2f, 1, 0.7f},           // Keras 2
            {ActivationKind::HardSigmoid, 1.f / 6, 1, 0.6666667f},  // Keras 3
            {ActivationKind::HardSigmoid, 0.2f, 10, 1},
            {ActivationKind::Exponential, 0, 1, 2.7182818f},
            {ActivationKind::Linear, 0, -7, -7},
        };
        for (const Case& c : cases) {
            float fast = c.x, ref = 0;
            cpu::applyActivation(spec(c.kind, 1, c.alpha), &fast, 1);
            cpu::activationReference(spec(c.kind, 1, c.alpha), &c.x, 1, &ref);
            const QByteArray what = QString("%1(%2): fast %3 reference %4 hand %5")
                                        .arg(QString::fromStdString(activationName(c.kind)))
                                        .arg(c.x)
                                        .arg(fast)
                                        .arg(ref)
                                        .arg(c.expected)
                                        .toUtf8();
            QVERIFY2(std::fabs(fast - c.expected) <= 1e-6f * (1 + std::fabs(c.expected)),
                     what.constData());
            QVERIFY2(std::fabs(ref - c.expected) <= 1e-6f * (1 + std::fabs(c.expected)),
                     what.constData());
        }
    }

    void activationsMatchReference() {
        std::mt19937 rng(9);
        const auto x = randomVector(rng, 3000, -20.f, 20.f);
        for (int k = 0; k <= int(ActivationKind::LeakyRelu); ++k) {
            const ActivationSpec s =
                spec(ActivationKind(k), 10, k == int(ActivationKind::HardSigmoid) ? 0.2f : 0.1f);
            std::vector<float> fast = x, expected(x.size());
            cpu::applyActivation(s, fast.data(), long(fast.size()));
            cpu::activationReference(s, x.data(), long(x.size()), expected.data());
            QVERIFY2(maxRelativeError(fast, expected) < 2e-6, activationName(s.kind).c_str());
        }
    }

    void softmaxIsStableOnLargeLogits() {
        // softmax(1000, 1001, 1002) = softmax(0, 1, 2) = e^i / (1 + e + e^2) = 0.09003057,
        // 0.24472847, 0.66524096.
        std::vector<float> row{1000, 1001, 1002, -1000, 0, -5000};
        cpu::applyActivation(spec(ActivationKind::Softmax, 3), row.data(), 6);
        const std::vector<float> expected{0.09003057f, 0.24472847f, 0.66524096f, 0, 1, 0};
        for (int i = 0; i < 6; ++i) {
            QVERIFY(std::isfinite(row[i]));
            QVERIFY2(std::fabs(row[i] - expected[i]) < 1e-6f, qPrintable(QString::number(i)));
        }
        std::vector<float> ref(6), in{1000, 1001, 1002, -1000, 0, -5000};
        cpu::activationReference(spec(ActivationKind::Softmax, 3), in.data(), 6, ref.data());
        for (int i = 0; i < 6; ++i) QVERIFY(std::fabs(ref[i] - expected[i]) < 1e-6f);
    }

    void gemmAccumulates() {
        // [1 2] * [3; 4] = 11; with accumulate onto 1 -> 12.
        const std::vector<float> a{1, 2}, b{3, 4};
        float c = 1;
        cpu::sgemm(1, 1, 2, a.data(), 2, b.data(), 1, &c, 1, true);
        QCOMPARE(c, 12.f);
        cpu::sgemm(1, 1, 2, a.data(), 2, b.data(), 1, &c, 1, false);
        QCOMPARE(c, 11.f);
    }

private:
    void checkFastConv(const std::vector<float>& input, int h, int w, const Conv2DConfig& config,
                       const std::vector<float>& kernel, const std::vector<float>& bias,
                       const std::vector<float>& expected, int channels = 1) {
        const Window2D window = makeWindow2D(h, w, channels, config.kernelH, config.kernelW,
                                             config.strideH, config.strideW, config.padding);
        for (auto algorithm : fastConvAlgorithms()) {
            const cpu::ConvSettings settings{algorithm, 0};
            std::vector<float> scratch(cpu::conv2dScratchFloats(window, settings) + 1),
                out(expected.size());
            cpu::conv2d(window, config.filters, kernel.data(), bias.data(), {}, input.data(), 1,
                        out.data(), scratch.data(), settings);
            QCOMPARE(out, expected);
        }
    }

    void checkFastPool(bool isMax, const std::vector<float>& input, int h, int w, int c,
                       const PoolConfig& config, const std::vector<float>& expected) {
        const Window2D window = makeWindow2D(h, w, c, config.poolH, config.poolW, config.strideH,
                                             config.strideW, config.padding);
        std::vector<float> out(expected.size());
        if (isMax)
            cpu::maxPool2d(window, input.data(), 1, out.data());
        else
            cpu::avgPool2d(window, input.data(), 1, out.data());
        QCOMPARE(out, expected);
    }
};

QTEST_APPLESS_MAIN(CpuKernelsTest)
#include "cpu_kernels_test.moc"
