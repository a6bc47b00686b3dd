// Finite-difference checks of every training op's backward pass, and of the forward
// passes against naive reference loops written here independently of core/train.
//
// Each check builds a tiny model, takes L = sum_i w_i y_i for fixed random w, and compares
// the analytic dL/dx and dL/dparams from TrainingGraph::backward with central differences
// (L accumulated in double; step 1e-2 on inputs of order 1, relative tolerance 2%).
#include <QtTest>
#include <cmath>
#include <functional>
#include <random>

#include "core/model/model.h"
#include "core/train/training_graph.h"

using namespace cwb;
using namespace cwb::train;

namespace {

std::vector<float> randomVector(std::size_t n, std::mt19937& rng, float lo = -1.f, float hi = 1.f) {
    std::uniform_real_distribution<float> u(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = u(rng);
    return v;
}

void fillRandom(Tensor& t, std::mt19937& rng, float lo, float hi) {
    auto v = randomVector(static_cast<std::size_t>(t.elements()), rng, lo, hi);
    std::copy(v.begin(), v.end(), t.mutableFloats().begin());
}

Layer layerOf(LayerKind kind, const std::string& name) {
    Layer l;
    l.kind = kind;
    l.name = name;
    l.className = layerKindName(kind);
    return l;
}

Layer denseLayer(int in, int units, ActivationKind act, std::mt19937& rng) {
    Layer l = layerOf(LayerKind::Dense, "dense");
    l.units = units;
    l.activation = act;
    l.kernel = Tensor::zeros({in, units});
    l.bias = Tensor::zeros({units});
    fillRandom(l.kernel, rng, -0.6f, 0.6f);
    fillRandom(l.bias, rng, -0.3f, 0.3f);
    return l;
}

Layer convLayer(int inC, int filters, int k, int stride, Padding pad, ActivationKind act,
                std::mt19937& rng) {
    Layer l = layerOf(LayerKind::Conv2D, "conv2d");
    l.conv = {filters, k, k, stride, stride, pad};
    l.activation = act;
    l.kernel = Tensor::zeros({k, k, inC, filters});
    l.bias = Tensor::zeros({filters});
    fillRandom(l.kernel, rng, -0.5f, 0.5f);
    fillRandom(l.bias, rng, -0.2f, 0.2f);
    return l;
}

Layer poolLayer(LayerKind kind, int size, int stride, Padding pad) {
    Layer l =
        layerOf(kind, kind == LayerKind::MaxPooling2D ? "max_pooling2d" : "average_pooling2d");
    l.pool = {size, size, stride, stride, pad};
    return l;
}

Layer batchNormLayer(int channels, bool scale, bool center, std::mt19937& rng) {
    Layer l = layerOf(LayerKind::BatchNormalization, "batch_normalization");
    l.batchNorm.scale = scale;
    l.batchNorm.center = center;
    if (scale) {
        l.gamma = Tensor::zeros({channels});
        fillRandom(l.gamma, rng, 0.5f, 1.5f);
    }
    if (center) {
        l.beta = Tensor::zeros({channels});
        fillRandom(l.beta, rng, -0.5f, 0.5f);
    }
    l.movingMean = Tensor::zeros({channels});
    l.movingVariance = Tensor::fromFloats({channels}, std::vector<float>(channels, 1.f));
    return l;
}

Model modelOf(Shape input, std::vector<Layer> layers) {
    Model m;
    m.sourcePath = "test model";
    m.evaluable = true;
    m.inputShape = std::move(input);
    m.layers = std::move(layers);
    m.inferShapes();
    return m;
}

bool close(double a, double n) {
    return std::fabs(a - n) <= 0.02 * std::max(std::fabs(a), std::fabs(n)) + 2e-3;
}

// Training mode throughout (batch statistics, dropout on): that is what backward differentiates.
void checkGradients(Model& model, int batch, bool logits = false, std::uint64_t stepSeed = 7,
                    unsigned seed = 1, float inputLo = -1.f, float inputHi = 1.f) {
    std::mt19937 rng(seed);
    TrainingGraph graph(model, {logits, true});
    const long long inSize = graph.inputSize(), outSize = graph.outputSize();
    std::vector<float> x =
        randomVector(static_cast<std::size_t>(batch * inSize), rng, inputLo, inputHi);
    const std::vector<float> w = randomVector(static_cast<std::size_t>(batch * outSize), rng);
    StepContext ctx;
    ctx.training = true;
    ctx.threads = 1;
    ctx.stepSeed = stepSeed;
    auto loss = [&]() {
        const float* y = graph.forward(x.data(), batch, ctx);
        double l = 0;
        for (std::size_t i = 0; i < w.size(); ++i) l += double(w[i]) * y[i];
        return l;
    };
    loss();
    std::vector<float> dOut = w;
    graph.backward(dOut.data(), batch, ctx);
    const std::vector<float> dx(graph.inputGradient(), graph.inputGradient() + x.size());
    std::vector<std::vector<float>> dParams;
    for (const auto& p : graph.parameters()) dParams.emplace_back(p.gradient, p.gradient + p.size);

    // Central difference, or NaN where the one-sided differences disagree: the step
    // crossed a kink (ReLU at 0, a max-pool near-tie), where no derivative exists to check.
    auto numeric = [&](float& v) {
        const float saved = v;
        const double l0 = loss();
        v = saved + 5e-4f;
        const double up = v, lUp = loss();
        v = saved - 5e-4f;
        const double down = v, lDown = loss();
        v = saved;
        const double forward = (lUp - l0) / (up - saved), backward = (l0 - lDown) / (saved - down);
        const double central = (lUp - lDown) / (up - down);
        if (std::fabs(forward - backward) > 0.01 + 0.02 * std::fabs(central)) return std::nan("");
        return central;
    };
    int checked = 0, kinks = 0;
    auto compare = [&](const QString& what, double analytic, double n) {
        if (std::isnan(n)) {
            ++kinks;
            return true;
        }
        ++checked;
        if (close(analytic, n)) return true;
        qWarning("%s: analytic %g, numeric %g", qPrintable(what), analytic, n);
        return false;
    };
    for (std::size_t i = 0; i < x.size(); ++i)
        QVERIFY(compare(QString("d/dx[%1]").arg(i), dx[i], numeric(x[i])));
    auto& params = graph.parameters();
    for (std::size_t k = 0; k < params.size(); ++k)
        for (long long i = 0; i < params[k].size; ++i)
            QVERIFY(compare(QString("d/d%1[%2]").arg(QString::fromStdString(params[k].name)).arg(i),
                            dParams[k][i], numeric(params[k].value[i])));
    // Kinks are rare; many would mean the check is not checking.
    QVERIFY2(kinks * 20 <= checked,
             qPrintable(QString("%1 kinks in %2 checks").arg(kinks).arg(checked)));
    QVERIFY(checked > 0);
}

// Naive NHWC convolution in double, written from the definition (TF 'same' rule).
std::vector<double> referenceConv(const std::vector<float>& x, int n, int h, int w, int c,
                                  const Layer& l) {
    const auto& cfg = l.conv;
    const int oh = static_cast<int>(l.outputShape[0]), ow = static_cast<int>(l.outputShape[1]);
    const int padT = cfg.padding == Padding::Same
                         ? std::max((oh - 1) * cfg.strideH + cfg.kernelH - h, 0) / 2
                         : 0;
    const int padL = cfg.padding == Padding::Same
                         ? std::max((ow - 1) * cfg.strideW + cfg.kernelW - w, 0) / 2
                         : 0;
    const auto k = l.kernel.floats();
    const auto b = l.bias.floats();
    std::vector<double> y(static_cast<std::size_t>(n) * oh * ow * cfg.filters);
    for (int s = 0; s < n; ++s)
        for (int oy = 0; oy < oh; ++oy)
            for (int ox = 0; ox < ow; ++ox)
                for (int f = 0; f < cfg.filters; ++f) {
                    double acc = b[f];
                    for (int ky = 0; ky < cfg.kernelH; ++ky)
                        for (int kx = 0; kx < cfg.kernelW; ++kx) {
                            const int iy = oy * cfg.strideH + ky - padT,
                                      ix = ox * cfg.strideW + kx - padL;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            for (int ch = 0; ch < c; ++ch)
                                acc += double(x[((s * h + iy) * w + ix) * c + ch]) *
                                       k[((ky * cfg.kernelW + kx) * c + ch) * cfg.filters + f];
                        }
                    y[((static_cast<std::size_t>(s) * oh + oy) * ow + ox) * cfg.filters + f] = acc;
                }
    return y;
}

}  // namespace

class TrainGradientTest : public QObject {
    Q_OBJECT
private slots:
    void denseLinear() {
        std::mt19937 rng(11);
        Model m = modelOf({5}, {denseLayer(5, 4, ActivationKind::Linear, rng)});
        checkGradients(m, 3);
    }
    void denseReluOnRank3Input() {
        // Dense acts on the last axis of a (2, 3, 4) input, as Keras does.
        std::mt19937 rng(12);
        Model m = modelOf({2, 3, 4}, {denseLayer(4, 3, ActivationKind::Relu, rng)});
        checkGradients(m, 2);
    }

    void activations_data() {
        QTest::addColumn<int>("kind");
        for (auto k : {ActivationKind::Linear, ActivationKind::Relu, ActivationKind::Softmax,
                       ActivationKind::Sigmoid, ActivationKind::Tanh, ActivationKind::Elu,
                       ActivationKind::Selu, ActivationKind::Softplus, ActivationKind::Softsign,
                       ActivationKind::Swish, ActivationKind::Gelu, ActivationKind::Relu6,
                       ActivationKind::Exponential, ActivationKind::LeakyRelu})
            QTest::newRow(activationName(k).c_str()) << int(k);
    }
    void activations() {
        QFETCH(int, kind);
        std::mt19937 rng(13);
        Layer act = layerOf(LayerKind::Activation, "activation");
        act.activation = ActivationKind(kind);
        act.activationAlpha = 0.3f;
        // Through a Dense so the activation's input is not the raw test input, and
        // standalone on a (3, 4) input so softmax normalises rows of 4.
        Model fused = modelOf({6}, {denseLayer(6, 5, ActivationKind(kind), rng)});
        checkGradients(fused, 3, false, 7, 2);
        Model standalone = modelOf({3, 4}, {act});
        checkGradients(standalone, 2, false, 7, 3, -2.f, 2.f);
    }

    void conv2d_data() {
        QTest::addColumn<int>("size");
        QTest::addColumn<int>("kernel");
        QTest::addColumn<int>("stride");
        QTest::addColumn<bool>("same");
        QTest::newRow("valid 3x3") << 6 << 3 << 1 << false;
        QTest::newRow("same 3x3") << 5 << 3 << 1 << true;
        QTest::newRow("same 3x3 stride 2") << 6 << 3 << 2 << true;
        QTest::newRow("same 2x2 stride 2 odd input") << 5 << 2 << 2 << true;
        QTest::newRow("valid 3x3 stride 2") << 7 << 3 << 2 << false;
    }
    void conv2d() {
        QFETCH(int, size);
        QFETCH(int, kernel);
        QFETCH(int, stride);
        QFETCH(bool, same);
        std::mt19937 rng(14);
        Layer conv = convLayer(2, 3, kernel, stride, same ? Padding::Same : Padding::Valid,
                               ActivationKind::Linear, rng);
        Model m = modelOf({size, size, 2}, {conv});
        // Forward against the naive reference.
        TrainingGraph graph(m, {false, false});
        const int batch = 2;
        const auto x = randomVector(static_cast<std::size_t>(batch * size * size * 2), rng);
        StepContext ctx;
        const float* y = graph.forward(x.data(), batch, ctx);
        const auto expected = referenceConv(x, batch, size, size, 2, m.layers[0]);
        QCOMPARE(graph.outputSize() * batch, static_cast<long long>(expected.size()));
        for (std::size_t i = 0; i < expected.size(); ++i)
            QVERIFY(std::fabs(y[i] - expected[i]) < 1e-5);
        checkGradients(m, batch);
        // And with a fused activation whose slope needs the pre-activation (kept by the op).
        // (ReLU's kinks make finite differences through 27 taps unreliable; the fused-ReLU
        // path is the same code as in Dense, checked in activations(), and smallCnnEndToEnd.)
        m.layers[0].activation = ActivationKind::Swish;
        checkGradients(m, batch);
    }

    void pools_data() {
        QTest::addColumn<bool>("max");
        QTest::addColumn<int>("size");
        QTest::addColumn<int>("pool");
        QTest::addColumn<int>("stride");
        QTest::addColumn<bool>("same");
        QTest::newRow("max 2x2 valid") << true << 4 << 2 << 2 << false;
        QTest::newRow("max 2x2 same odd") << true << 5 << 2 << 2 << true;
        QTest::newRow("max 3x3 stride 1 same") << true << 4 << 3 << 1 << true;
        QTest::newRow("avg 2x2 valid") << false << 4 << 2 << 2 << false;
        QTest::newRow("avg 3x3 stride 2 same") << false << 5 << 3 << 2 << true;
    }
    void pools() {
        QFETCH(bool, max);
        QFETCH(int, size);
        QFETCH(int, pool);
        QFETCH(int, stride);
        QFETCH(bool, same);
        Model m = modelOf({size, size, 2},
                          {poolLayer(max ? LayerKind::MaxPooling2D : LayerKind::AveragePooling2D,
                                     pool, stride, same ? Padding::Same : Padding::Valid)});
        checkGradients(m, 2);
    }
    void averagePoolSameExcludesPadding() {
        // 3x3 input 1..9, 2x2 pool stride 2 'same': windows {1,2,4,5}, {3,6}, {7,8}, {9}.
        Model m = modelOf({3, 3, 1}, {poolLayer(LayerKind::AveragePooling2D, 2, 2, Padding::Same)});
        TrainingGraph graph(m);
        const std::vector<float> x{1, 2, 3, 4, 5, 6, 7, 8, 9};
        const float* y = graph.forward(x.data(), 1, {});
        QCOMPARE(y[0], 3.f);
        QCOMPARE(y[1], 4.5f);
        QCOMPARE(y[2], 7.5f);
        QCOMPARE(y[3], 9.f);
    }

    void batchNormTraining_data() {
        QTest::addColumn<bool>("scale");
        QTest::addColumn<bool>("center");
        QTest::newRow("gamma and beta") << true << true;
        QTest::newRow("no gamma") << false << true;
        QTest::newRow("no beta") << true << false;
    }
    void batchNormTraining() {
        QFETCH(bool, scale);
        QFETCH(bool, center);
        std::mt19937 rng(15);
        Model m = modelOf({3, 3, 2}, {batchNormLayer(2, scale, center, rng)});
        checkGradients(m, 3);
    }
    void batchNormStatistics() {
        // One channel, batch of 4 values {1, 2, 3, 6}: mean 3, biased variance 3.5.
        std::mt19937 rng(16);
        Layer bn = batchNormLayer(1, true, true, rng);
        bn.gamma = Tensor::fromFloats({1}, {2.f});
        bn.beta = Tensor::fromFloats({1}, {0.5f});
        bn.batchNorm.epsilon = 0.f;
        Model m = modelOf({1}, {bn});
        TrainingGraph graph(m);
        const std::vector<float> x{1, 2, 3, 6};
        StepContext train;
        train.training = true;
        const float* y = graph.forward(x.data(), 4, train);
        for (int i = 0; i < 4; ++i)
            QVERIFY(std::fabs(y[i] - (2.0 * (x[i] - 3.0) / std::sqrt(3.5) + 0.5)) < 1e-5);
        // Moving averages after one step with momentum 0.99: 0.99 * 0 + 0.01 * 3, 0.99 * 1 + 0.01
        // * 3.5.
        QVERIFY(std::fabs(m.layers[0].movingMean.floats()[0] - 0.03f) < 1e-6);
        QVERIFY(std::fabs(m.layers[0].movingVariance.floats()[0] - 1.025f) < 1e-6);
        // Inference mode uses those moving statistics.
        const float* yi = graph.forward(x.data(), 4, {});
        QVERIFY(std::fabs(yi[3] - (2.0 * (6.0 - 0.03) / std::sqrt(1.025) + 0.5)) < 1e-4);
    }

    void dropoutWithFixedMask() {
        Layer drop = layerOf(LayerKind::Dropout, "dropout");
        drop.dropoutRate = 0.4f;
        std::mt19937 rng(17);
        Model m = modelOf({6}, {denseLayer(6, 8, ActivationKind::Tanh, rng), drop});
        checkGradients(m, 3, false, /*stepSeed*/ 99);

        // Inverted dropout: kept units scaled by 1 / (1 - rate), about `rate` of them dropped,
        // identity at inference.
        Model alone = modelOf({1000}, {drop});
        TrainingGraph graph(alone);
        const std::vector<float> ones(4000, 1.f);
        StepContext train;
        train.training = true;
        train.stepSeed = 5;
        const float* y = graph.forward(ones.data(), 4, train);
        int dropped = 0;
        for (int i = 0; i < 4000; ++i) {
            if (y[i] == 0.f)
                ++dropped;
            else
                QVERIFY(std::fabs(y[i] - 1.f / 0.6f) < 1e-6);
        }
        QVERIFY2(dropped > 1500 && dropped < 1700, qPrintable(QString::number(dropped)));
        const std::vector<float> first(y, y + 4000);
        y = graph.forward(ones.data(), 4, train);  // same step seed, same mask
        QVERIFY(std::equal(first.begin(), first.end(), y));
        train.stepSeed = 6;
        y = graph.forward(ones.data(), 4, train);
        QVERIFY(!std::equal(first.begin(), first.end(), y));
        y = graph.forward(ones.data(), 4, {});
        for (int i = 0; i < 4000; ++i) QCOMPARE(y[i], 1.f);
    }

    void smallCnnEndToEnd() {
        // Conv -> BN -> ReLU -> MaxPool -> Flatten -> Dense -> Dense softmax, the graph's
        // logits output (softmax left out) checked through every layer at once.
        std::mt19937 rng(18);
        Layer relu = layerOf(LayerKind::Activation, "activation");
        relu.activation = ActivationKind::Relu;
        Layer flatten = layerOf(LayerKind::Flatten, "flatten");
        Model m =
            modelOf({6, 6, 1}, {convLayer(1, 3, 3, 1, Padding::Same, ActivationKind::Linear, rng),
                                batchNormLayer(3, true, true, rng), relu,
                                poolLayer(LayerKind::MaxPooling2D, 2, 2, Padding::Valid), flatten,
                                denseLayer(27, 5, ActivationKind::Relu, rng),
                                denseLayer(5, 4, ActivationKind::Softmax, rng)});
        m.layers[6].name = "dense_1";
        checkGradients(m, 4, /*logits*/ true);
    }
};

QTEST_APPLESS_MAIN(TrainGradientTest)
#include "train_gradient_test.moc"
