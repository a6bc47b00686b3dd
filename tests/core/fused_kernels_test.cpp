// The fused pass's element kernels besides the k-bit ones (quant_types_test covers those):
// each fast kernel equals its scalar `Ref` kernel bit for bit on random data, tails and
// out-of-range values included. Where the build has no AVX-512 the two are the same code.
#include "core/compress/fused_kernels.h"

#include <QtTest>
#include <cstring>
#include <random>

using namespace cwb;
using namespace cwb::fused;

namespace {

constexpr int kLen = 203;  // not a multiple of 16 or 8: every kernel runs a tail

std::vector<float> randomValues(std::mt19937& rng, float spread) {
    std::normal_distribution<float> dist(0.f, spread);
    std::vector<float> v(kLen);
    for (auto& x : v) x = dist(rng);
    v[0] = 0.f;
    v[1] = -0.f;
    v[2] = 10.f * spread;  // past the histogram's range
    v[3] = -10.f * spread;
    return v;
}

template <QuantKind Q, KeepRule::Kind K>
bool valuesAgree(const std::vector<float>& in, const std::vector<std::uint8_t>& mask) {
    std::vector<float> a(kLen), b(kLen), ca(kLen), cb(kLen);
    BlockParams p{};
    p.in = in.data();
    p.keepMask = mask.data();
    p.rho = 0.1f;
    p.alpha = 0.03f;
    p.out = a.data();
    p.codes = ca.data();
    valuesRef<Q, false, K>(p, kLen);
    p.out = b.data();
    p.codes = cb.data();
    values<Q, false, K>(p, kLen);
    return std::memcmp(a.data(), b.data(), kLen * 4) == 0 &&
           std::memcmp(ca.data(), cb.data(), kLen * 4) == 0;
}

template <QuantKind Q>
bool allKeepRulesAgree(const std::vector<float>& in, const std::vector<std::uint8_t>& mask) {
    using K = KeepRule::Kind;
    return valuesAgree<Q, K::All>(in, mask) && valuesAgree<Q, K::Threshold>(in, mask) &&
           valuesAgree<Q, K::Textbook>(in, mask) && valuesAgree<Q, K::Explicit>(in, mask);
}

}  // namespace

class FusedKernelsTest : public QObject {
    Q_OBJECT
private slots:
    void valuesOfPruningAndUniformSteps() {
        std::mt19937 rng(11);
        for (int trial = 0; trial < 5; ++trial) {
            const auto in = randomValues(rng, 0.3f);
            std::vector<std::uint8_t> mask(kLen);
            for (auto& m : mask) m = static_cast<std::uint8_t>(rng() % 2);
            QVERIFY(allKeepRulesAgree<QuantKind::None>(in, mask));
            QVERIFY(allKeepRulesAgree<QuantKind::Uniform>(in, mask));
        }
    }

    void histogramSlots() {
        std::mt19937 rng(12);
        HistogramSpec spec;
        spec.bins = 61;
        spec.lo = -0.9;
        spec.hi = 0.9;
        const BinScale b = binScale(spec);
        for (int trial = 0; trial < 5; ++trial) {
            const auto in = randomValues(rng, 0.3f), out = randomValues(rng, 0.3f);
            std::vector<std::uint16_t> a(kLen), c(kLen);
            weightSlotsRef(in.data(), kLen, b, a.data());
            weightSlots(in.data(), kLen, b, c.data());
            QCOMPARE(a, c);
            QCOMPARE(a[2], std::uint16_t(spec.bins + 1));  // overflow slot
            QCOMPARE(a[3], std::uint16_t(0));              // underflow slot
            errorSlotsRef(in.data(), out.data(), kLen, b, a.data());
            errorSlots(in.data(), out.data(), kLen, b, c.data());
            QCOMPARE(a, c);
        }
    }

    void laneSums() {
        std::mt19937 rng(13);
        for (int trial = 0; trial < 5; ++trial) {
            const auto in = randomValues(rng, 0.3f), out = randomValues(rng, 0.3f);
            LaneSums a, c;
            for (int rep = 0; rep < 2; ++rep) {  // accumulates onto what is there
                sumsRef(in.data(), out.data(), kLen, a);
                sums(in.data(), out.data(), kLen, c);
            }
            QVERIFY(std::memcmp(a.squares, c.squares, sizeof a.squares) == 0);
            QVERIFY(std::memcmp(a.errors, c.errors, sizeof a.errors) == 0);
            QCOMPARE(a.maxAbsError, c.maxAbsError);
            QCOMPARE(a.zeros, c.zeros);
            QCOMPARE(a.originalZeros, c.originalZeros);
            QCOMPARE(a.originalZeros, 2LL * 2);  // +0 and -0, twice
        }
    }

    void codeCounterIndices() {
        std::mt19937 rng(14);
        std::uniform_int_distribution<int> code(-40, 40);
        std::vector<float> codes(kLen);
        for (auto& c : codes) c = static_cast<float>(code(rng));
        std::vector<std::uint16_t> a(kLen), c(kLen);
        codeIndicesRef(codes.data(), kLen, -31.f, 62.f, a.data());
        codeIndices(codes.data(), kLen, -31.f, 62.f, c.data());
        QCOMPARE(a, c);
        for (std::size_t i = 0; i < a.size(); ++i)
            QCOMPARE(int(a[i]), std::clamp(int(codes[i]) + 31, 0, 62));
    }
};

QTEST_APPLESS_MAIN(FusedKernelsTest)
#include "fused_kernels_test.moc"
