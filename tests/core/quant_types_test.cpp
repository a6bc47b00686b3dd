// The k-bit quantization traits table: one row per setting with the code range and scale
// rule of quantize.h's formulas (worked here by hand), every row's fast kernel equal to its
// `_ref` kernel bit for bit (each kernel family this CPU has) on random data under every keep rule,
// and compressModel's k-bit weights equal to a naive float32 quantizer written in this test from
// the formulas alone.
#include "core/compress/quant_types.h"

#include <QtTest>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "core/compress/compress_model.h"
#include "core/compress/fused_kernels.h"

using namespace cwb;

namespace {

constexpr int kRun = 203;  // elements per kernel call: a tail past the last vector of 8 and 16

Model denseModel(int in, int out, const std::vector<float>& w) {
    Model m;
    m.sourcePath = "random";
    m.inputShape = {in};
    Layer l;
    l.name = "d";
    l.className = "Dense";
    l.kind = LayerKind::Dense;
    l.units = out;
    l.kernel = Tensor::fromFloats({in, out}, w);
    l.bias = Tensor::zeros({out});
    m.layers.push_back(l);
    m.inferShapes();
    return m;
}

// quantize.h's formulas, in float32 as documented, independent of the table.
struct Naive {
    float step = 0.f;
    int zp = 0, qmin = 0, qmax = 0;
    Naive(float lo, float hi, int bits, bool sym) {
        if (sym) {
            const int top = (1 << (bits - 1)) - 1;
            qmin = -top;
            qmax = top;
            const float m = std::max(std::fabs(lo), std::fabs(hi));
            step = m > 0.f ? m / static_cast<float>(top) : 0.f;
        } else {
            lo = std::min(lo, 0.f);
            hi = std::max(hi, 0.f);
            qmax = (1 << bits) - 1;
            step = hi > lo ? (hi - lo) / static_cast<float>(qmax) : 0.f;
            zp = step > 0.f ? std::clamp(static_cast<int>(std::round(-lo / step)), 0, qmax) : 0;
        }
    }
    float apply(float w) const {
        if (step == 0.f) return 0.f;
        const float q = std::clamp(std::round(w / step) + static_cast<float>(zp),
                                   static_cast<float>(qmin), static_cast<float>(qmax));
        return (q - static_cast<float>(zp)) * step;
    }
};

}  // namespace

class QuantTypesTest : public QObject {
    Q_OBJECT
private slots:
    void everySettingHasItsRow() {
        QCOMPARE(quantTypes().size(), std::size_t(7 * 2 * 5));
        for (int bits = 2; bits <= 8; ++bits)
            for (bool sym : {true, false})
                for (auto [g, block, suffix] : {std::tuple{Granularity::Tensor, 0, "tensor"},
                                                std::tuple{Granularity::Channel, 0, "channel"},
                                                std::tuple{Granularity::Group, 32, "g32"},
                                                std::tuple{Granularity::Group, 64, "g64"},
                                                std::tuple{Granularity::Group, 128, "g128"}}) {
                    const QuantTypeTraits* t = quantTypeFor(
                        bits, sym ? QuantScheme::Symmetric : QuantScheme::Asymmetric, g, block);
                    QVERIFY(t);
                    std::string name = "q";  // appended: GCC 12 warns falsely on operator+
                    name += std::to_string(bits);
                    name += sym ? "s_" : "a_";
                    name += suffix;
                    QCOMPARE(t->name, name);
                    QCOMPARE(findQuantType(name), t);
                    QCOMPARE(t->qmin, sym ? -((1 << (bits - 1)) - 1) : 0);
                    QCOMPARE(t->qmax, sym ? (1 << (bits - 1)) - 1 : (1 << bits) - 1);
                    QCOMPARE(t->blockSize, block);
                    for (int k = 0; k < kKeepKinds; ++k) {
                        QVERIFY(t->quantizeRef[k]);
                        for (int isa = 0; isa < quant::kIsaCount; ++isa)
                            QCOMPARE(t->quantize[isa][k] != nullptr,
                                     quant::isaSupported(static_cast<quant::Isa>(isa)));
                    }
                }
        QVERIFY(!quantTypeFor(9, QuantScheme::Symmetric, Granularity::Tensor, 0));
        QVERIFY(!quantTypeFor(4, QuantScheme::Symmetric, Granularity::Group, 48));
        QVERIFY(!findQuantType("q9s_g32"));
    }

    void scaleRuleByHand() {
        // 4-bit symmetric over [-0.7, 0.35]: 7 levels a side, step 0.7 / 7 = 0.1.
        const AffineQuantizer s = findQuantType("q4s_g32")->quantizer(-0.7f, 0.35f);
        QCOMPARE(s.step, 0.7f / 7.f);
        QCOMPARE(s.zeroPoint, 0);
        // 8-bit asymmetric over [-1, 3]: step 4 / 255, zero point round(255 / 4) = 64.
        const AffineQuantizer a = findQuantType("q8a_channel")->quantizer(-1.f, 3.f);
        QCOMPARE(a.step, 4.f / 255.f);
        QCOMPARE(a.zeroPoint, 64);
        // A range that excludes 0 is widened to contain it: [0.5, 2] -> [0, 2], zero point 0.
        const AffineQuantizer w = findQuantType("q2a_tensor")->quantizer(0.5f, 2.f);
        QCOMPARE(w.step, 2.f / 3.f);
        QCOMPARE(w.zeroPoint, 0);
    }

    // Every row's fast kernel of each family this CPU has (one data row per family) against its
    // reference, under every keep rule, on random weights with per-element steps, exact ties,
    // zero steps (an empty range), NaN and infinities, and a random mask.
    void fastEqualsReference_data() {
        QTest::addColumn<int>("isa");
        for (auto isa : {quant::Isa::Scalar, quant::Isa::Avx2, quant::Isa::Avx512})
            QTest::newRow(quant::isaName(isa).c_str()) << static_cast<int>(isa);
    }
    void fastEqualsReference() {
        QFETCH(int, isa);
        if (!quant::isaSupported(static_cast<quant::Isa>(isa)))
            QSKIP("this CPU lacks the data row's kernel family");
        const float special[] = {std::numeric_limits<float>::quiet_NaN(),
                                 std::numeric_limits<float>::infinity(),
                                 -std::numeric_limits<float>::infinity(), -0.f, 3e38f};
        std::mt19937 rng(5);
        std::normal_distribution<float> weight(0.f, 0.3f);
        std::uniform_real_distribution<float> range(0.05f, 1.f);
        std::vector<float> in(kRun), steps(kRun), zps(kRun), a(kRun), b(kRun), ca(kRun), cb(kRun);
        std::vector<std::uint8_t> mask(kRun);
        int compared = 0;
        for (const QuantTypeTraits& type : quantTypes()) {
            for (int trial = 0; trial < 5; ++trial) {
                for (int j = 0; j < kRun; ++j) {
                    const AffineQuantizer q = type.quantizer(-range(rng), range(rng));
                    steps[static_cast<std::size_t>(j)] = trial == 3 && j % 7 == 0 ? 0.f : q.step;
                    zps[static_cast<std::size_t>(j)] = static_cast<float>(q.zeroPoint);
                    float w = weight(rng) + (trial == 1 ? 0.4f : 0.f);
                    if (trial == 2 && j % 5 == 0)  // exactly half-way between two codes
                        w = (static_cast<float>(j % 9) - 4.f + 0.5f) * q.step;
                    if (trial == 4 && j % 3 == 0) w = special[(j / 3) % std::size(special)];
                    in[static_cast<std::size_t>(j)] = w;
                    mask[static_cast<std::size_t>(j)] = static_cast<std::uint8_t>(rng() % 2);
                }
                for (int k = 0; k < kKeepKinds; ++k) {
                    fused::BlockParams p{};
                    p.in = in.data();
                    p.keepMask = mask.data();
                    p.rho = 0.2f;
                    p.steps = steps.data();
                    p.zeroPoints = zps.data();
                    p.qmin = static_cast<float>(type.qmin);
                    p.qmax = static_cast<float>(type.qmax);
                    p.out = a.data();
                    p.codes = ca.data();
                    type.quantizeRef[k](p, kRun);
                    p.out = b.data();
                    p.codes = cb.data();
                    type.quantize[isa][k](p, kRun);
                    const QString where = QString("%1 keep rule %2 trial %3")
                                              .arg(QString::fromStdString(type.name))
                                              .arg(k)
                                              .arg(trial);
                    QVERIFY2(std::memcmp(a.data(), b.data(), kRun * 4) == 0, qPrintable(where));
                    QVERIFY2(std::memcmp(ca.data(), cb.data(), kRun * 4) == 0, qPrintable(where));
                    ++compared;
                }
            }
        }
        QCOMPARE(compared, 70 * 5 * kKeepKinds);
    }

    // compressModel's k-bit weights are the naive quantizer's, unit by unit: groups of rows
    // down each column, each column, or the whole tensor.
    void compressModelRunsTheRows_data() {
        QTest::addColumn<int>("bits");
        QTest::addColumn<bool>("symmetric");
        QTest::addColumn<int>("granularity");  // Granularity
        QTest::addColumn<int>("group");
        for (int bits : {3, 8})
            for (bool sym : {true, false}) {
                const QString s = QString("%1-bit %2 ").arg(bits).arg(sym ? "sym" : "asym");
                QTest::newRow(qPrintable(s + "g64"))
                    << bits << sym << int(Granularity::Group) << 64;
                QTest::newRow(qPrintable(s + "channel"))
                    << bits << sym << int(Granularity::Channel) << 32;
                QTest::newRow(qPrintable(s + "tensor"))
                    << bits << sym << int(Granularity::Tensor) << 32;
            }
    }
    void compressModelRunsTheRows() {
        QFETCH(int, bits);
        QFETCH(bool, symmetric);
        QFETCH(int, granularity);
        QFETCH(int, group);
        const int in = 200, out = 7;  // 200 rows: groups of 64 leave a short last group
        std::mt19937 rng(6);
        std::normal_distribution<float> dist(0.f, 0.2f);
        std::vector<float> w(static_cast<std::size_t>(in) * out);
        for (auto& v : w) v = dist(rng);
        CompressionPlan plan;
        plan.defaults.quant.bits = bits;
        plan.defaults.quant.granularity = static_cast<Granularity>(granularity);
        plan.defaults.quant.groupSize = group;
        plan.defaults.quant.scheme = symmetric ? QuantScheme::Symmetric : QuantScheme::Asymmetric;
        const auto r = compressModel(denseModel(in, out, w), plan);
        const auto got = r.model.layers[0].kernel.floats();
        const auto at = [out](int row, int col) {
            return static_cast<std::size_t>(row) * out + col;
        };
        const int rowsPerUnit = granularity == int(Granularity::Group) ? group : in;
        for (int c0 = 0; c0 < out; ++c0)
            for (int r0 = 0; r0 < in; r0 += rowsPerUnit) {
                const int r1 = std::min(in, r0 + rowsPerUnit);
                const bool wholeTensor = granularity == int(Granularity::Tensor);
                float lo = w[at(r0, c0)], hi = lo;
                for (int r = wholeTensor ? 0 : r0; r < (wholeTensor ? in : r1); ++r)
                    for (int c = wholeTensor ? 0 : c0; c <= (wholeTensor ? out - 1 : c0); ++c) {
                        lo = std::min(lo, w[at(r, c)]);
                        hi = std::max(hi, w[at(r, c)]);
                    }
                const Naive q(lo, hi, bits, symmetric);
                for (int r = r0; r < r1; ++r) {
                    const float want = q.apply(w[at(r, c0)]);
                    QVERIFY2(std::bit_cast<std::uint32_t>(got[at(r, c0)]) ==
                                 std::bit_cast<std::uint32_t>(want),
                             qPrintable(QString("(%1, %2): %3, expected %4")
                                            .arg(r)
                                            .arg(c0)
                                            .arg(double(got[at(r, c0)]), 0, 'g', 9)
                                            .arg(double(want), 0, 'g', 9)));
                }
            }
        if (granularity == int(Granularity::Group)) {
            const std::string name = quantTypeFor(plan.defaults.quant)->name;
            QVERIFY(r.layers[0].kernel.size.description.find(name) != std::string::npos);
        }
    }
};

QTEST_APPLESS_MAIN(QuantTypesTest)
#include "quant_types_test.moc"
