// The fused pass's kernel families: every family this CPU runs (scalar table, AVX2, AVX-512;
// one data row each, the others skipped) equals the scalar *Ref kernels bit for bit, on random
// data with NaN, infinities, signed zeros, denormals, exact rounding ties and values outside
// the histogram range, at lengths that leave every kind of tail; and the whole pass gives the
// same bits under every family (quant_types_test covers the k-bit value kernels row by row).
#include "core/compress/fused_kernels.h"

#include <QtTest>
#include <cstring>
#include <limits>
#include <random>

#include "core/compress/quant_types.h"
#include "core/compress/unit_quantizers.h"

using namespace cwb;
using namespace cwb::fused;
using quant::Isa;

namespace {

// Short runs, every tail of 8 and 16 lanes, a full block and a long odd run.
const int kLengths[] = {0, 1, 5, 7, 8, 9, 15, 16, 17, 24, 31, 33, 203, 256};
constexpr int kMaxLen = 256;

// Normal values with special ones sprinkled at random positions (every lane and tail meets
// them): zeros of both signs, NaN of both signs, infinities, a denormal, the largest float,
// values past the histogram range, and exact ties of the step `tie` (a power of two).
std::vector<float> randomValues(std::mt19937& rng, float spread, float tie) {
    const float inf = std::numeric_limits<float>::infinity();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float special[] = {0.f,    -0.f,  nan,    -nan,          inf,           -inf,
                             1e-40f, 3e38f, -3e38f, 10.f * spread, -10.f * spread};
    std::normal_distribution<float> dist(0.f, spread);
    std::uniform_int_distribution<int> pick(0, 3 * static_cast<int>(std::size(special)));
    std::vector<float> v(kMaxLen);
    for (auto& x : v) {
        const int s = pick(rng);
        if (s < static_cast<int>(std::size(special)))
            x = special[s];
        else if (s < 2 * static_cast<int>(std::size(special)))
            x = (static_cast<float>(s % 9) - 4.f + 0.5f) * tie;  // half-way between two codes
        else
            x = dist(rng);
    }
    return v;
}

bool sameBits(const void* a, const void* b, int bytes) { return std::memcmp(a, b, bytes) == 0; }

// The family of the data row, or nullptr (the test is skipped) where this CPU lacks it.
const FusedKernels* familyOf(int isa) {
    return quant::isaSupported(static_cast<Isa>(isa)) ? &fusedKernels(static_cast<Isa>(isa))
                                                      : nullptr;
}

void isaRows() {
    QTest::addColumn<int>("isa");
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
        QTest::newRow(quant::isaName(isa).c_str()) << static_cast<int>(isa);
}

template <QuantKind Q, KeepRule::Kind K>
QString valuesDiffer(const FusedKernels& k, const std::vector<float>& in,
                     const std::vector<std::uint8_t>& mask, float alpha, int len) {
    std::vector<float> a(kMaxLen, 7.f), b(kMaxLen, 7.f), ca(kMaxLen, 7.f), cb(kMaxLen, 7.f);
    BlockParams p{};
    p.in = in.data();
    p.keepMask = mask.data();
    p.rho = 0.1f;
    p.alpha = alpha;
    p.out = a.data();
    p.codes = ca.data();
    valuesRef<Q, false, K>(p, len);
    p.out = b.data();
    p.codes = cb.data();
    k.values[static_cast<int>(Q)][0][static_cast<int>(K)](p, len);
    for (int j = 0; j < kMaxLen; ++j)  // past len: untouched
        if (!sameBits(&a[j], &b[j], 4) || !sameBits(&ca[j], &cb[j], 4))
            return QString(
                       "quant %1 keep %2 alpha %3 length %4: element %5 of w = %6 gives %7 "
                       "(code %8), the reference %9 (code %10)")
                .arg(int(Q))
                .arg(int(K))
                .arg(double(alpha))
                .arg(len)
                .arg(j)
                .arg(double(in[j]))
                .arg(double(b[j]))
                .arg(double(cb[j]))
                .arg(double(a[j]))
                .arg(double(ca[j]));
    return {};
}

template <QuantKind Q>
QString anyKeepRuleDiffers(const FusedKernels& k, const std::vector<float>& in,
                           const std::vector<std::uint8_t>& mask, float alpha, int len) {
    using K = KeepRule::Kind;
    for (const QString& d : {valuesDiffer<Q, K::All>(k, in, mask, alpha, len),
                             valuesDiffer<Q, K::Threshold>(k, in, mask, alpha, len),
                             valuesDiffer<Q, K::Textbook>(k, in, mask, alpha, len),
                             valuesDiffer<Q, K::Explicit>(k, in, mask, alpha, len)})
        if (!d.isEmpty()) return d;
    return {};
}

}  // namespace

class FusedKernelsTest : public QObject {
    Q_OBJECT
private slots:
    void valuesOfPruningAndUniformSteps_data() { isaRows(); }
    void valuesOfPruningAndUniformSteps() {
        QFETCH(int, isa);
        const FusedKernels* k = familyOf(isa);
        if (!k) QSKIP("this CPU lacks the data row's kernel family");
        std::mt19937 rng(11);
        for (float alpha : {0.03f, 0.25f, 1e-30f}) {  // 1e-30: w / alpha overflows to inf
            for (int len : kLengths) {
                const auto in = randomValues(rng, 0.3f, alpha);
                std::vector<std::uint8_t> mask(kMaxLen);
                for (auto& m : mask) m = static_cast<std::uint8_t>(rng() % 3);  // 2 is "kept" too
                for (const QString& d :
                     {anyKeepRuleDiffers<QuantKind::None>(*k, in, mask, alpha, len),
                      anyKeepRuleDiffers<QuantKind::Uniform>(*k, in, mask, alpha, len)})
                    QVERIFY2(d.isEmpty(), qPrintable(d));
            }
        }
    }

    void histogramSlots_data() { isaRows(); }
    void histogramSlots() {
        QFETCH(int, isa);
        const FusedKernels* k = familyOf(isa);
        if (!k) QSKIP("this CPU lacks the data row's kernel family");
        std::mt19937 rng(12);
        for (auto [bins, lo, hi] :
             {std::tuple{61, -0.9, 0.9}, std::tuple{65000, -1.0, 0.5}, std::tuple{1, 0.0, 0.125}}) {
            HistogramSpec spec;
            spec.bins = bins;
            spec.lo = lo;
            spec.hi = hi;
            const BinScale b = binScale(spec);
            for (int len : kLengths) {
                // Ties of the bin width: values exactly on bin edges.
                const float width = static_cast<float>((hi - lo) / bins);
                const auto in = randomValues(rng, 0.3f, width),
                           out = randomValues(rng, 0.3f, width);
                std::vector<std::uint16_t> a(kMaxLen, 7), c(kMaxLen, 7);
                weightSlotsRef(in.data(), len, b, a.data());
                k->weightSlots(in.data(), len, b, c.data());
                QCOMPARE(a, c);
                errorSlotsRef(in.data(), out.data(), len, b, a.data());
                k->errorSlots(in.data(), out.data(), len, b, c.data());
                QCOMPARE(a, c);
            }
        }
        // The rule itself: below, inside, past the top, NaN.
        const BinScale b = binScale(HistogramSpec{4, -1.0, 1.0});
        const float v[] = {-2.f, -1.f, 0.f, 0.99f, 1.f, 2.f, std::nanf(""), -0.5f};
        std::uint16_t s[8];
        k->weightSlots(v, 8, b, s);
        const std::uint16_t want[] = {0, 1, 3, 4, 4, 5, 5, 2};
        QVERIFY(std::equal(s, s + 8, want));
    }

    void laneSums_data() { isaRows(); }
    void laneSums() {
        QFETCH(int, isa);
        const FusedKernels* k = familyOf(isa);
        if (!k) QSKIP("this CPU lacks the data row's kernel family");
        std::mt19937 rng(13);
        for (bool specials : {false, true}) {
            for (int len : kLengths) {
                auto in = randomValues(rng, 0.3f, 0.25f), out = randomValues(rng, 0.3f, 0.25f);
                if (!specials)  // finite sums: NaN and infinities would hide every other bit
                    for (auto* v : {&in, &out})
                        for (auto& x : *v)
                            if (!std::isfinite(x) || std::fabs(x) > 1e30f) x = 0.5f;
                LaneSums a, c;
                for (int rep = 0; rep < 2; ++rep) {  // accumulates onto what is there
                    sumsRef(in.data(), out.data(), len, a);
                    k->sums(in.data(), out.data(), len, c);
                }
                const QString where = QString("length %1, specials %2").arg(len).arg(specials);
                QVERIFY2(sameBits(a.squares, c.squares, sizeof a.squares), qPrintable(where));
                QVERIFY2(sameBits(a.errors, c.errors, sizeof a.errors), qPrintable(where));
                QVERIFY2(sameBits(&a.maxAbsError, &c.maxAbsError, 8), qPrintable(where));
                QCOMPARE(a.zeros, c.zeros);
                QCOMPARE(a.originalZeros, c.originalZeros);
            }
        }
        // By hand: 9 elements, the ninth in lane 0 again.
        const float in[9] = {1, 2, 0, -0.f, 3, 0, 0, 0, 4}, out[9] = {1, 0, 0, 0, 5, 0, 0, 0, 1};
        LaneSums s;
        k->sums(in, out, 9, s);
        QCOMPARE(s.squares[0], 1.0 + 16.0);
        QCOMPARE(s.errors[0], 9.0);
        QCOMPARE(s.errors[1], 4.0);
        QCOMPARE(s.maxAbsError, 3.0);
        QCOMPARE(s.zeros, 6LL);
        QCOMPARE(s.originalZeros, 5LL);
    }

    void codeCounterIndices_data() { isaRows(); }
    void codeCounterIndices() {
        QFETCH(int, isa);
        const FusedKernels* k = familyOf(isa);
        if (!k) QSKIP("this CPU lacks the data row's kernel family");
        std::mt19937 rng(14);
        std::uniform_int_distribution<int> code(-40, 40);
        for (int len : kLengths) {
            auto codes = randomValues(rng, 50.f, 1.f);  // NaN, infinities, ties of 1
            for (int j = 0; j < kMaxLen; j += 2) codes[j] = static_cast<float>(code(rng));
            std::vector<std::uint16_t> a(kMaxLen, 7), c(kMaxLen, 7);
            codeIndicesRef(codes.data(), len, -31.f, 62.f, a.data());
            k->codeIndices(codes.data(), len, -31.f, 62.f, c.data());
            QCOMPARE(a, c);
            for (int j = 0; j < len; j += 2)
                QCOMPARE(int(c[j]), std::clamp(int(codes[j]) + 31, 0, 62));
        }
        const float top[] = {65535.f, 70000.f, 0.f, 1.f, 2.f, 3.f, 4.f, 65534.f};
        std::uint16_t s[8];
        k->codeIndices(top, 8, 0.f, 65535.f, s);  // the largest span: 65536 counters
        QCOMPARE(int(s[0]), 65535);
        QCOMPARE(int(s[1]), 65535);
        QCOMPARE(int(s[7]), 65534);
    }

    // Streaming stores start at a vector boundary of the output: every offset and length
    // copies exactly the block and nothing around it.
    void storesAtAnyOffset_data() { isaRows(); }
    void storesAtAnyOffset() {
        QFETCH(int, isa);
        const FusedKernels* k = familyOf(isa);
        if (!k) QSKIP("this CPU lacks the data row's kernel family");
        std::vector<float> src(kMaxLen);
        for (int j = 0; j < kMaxLen; ++j) src[j] = static_cast<float>(j) + 0.5f;
        alignas(64) float dst[kMaxLen + 32];
        for (int offset = 0; offset < 16; ++offset)
            for (int len : kLengths) {
                std::fill(std::begin(dst), std::end(dst), -1.f);
                k->store(dst + offset, src.data(), len);
                storeFence();
                for (int j = 0; j < kMaxLen + 32; ++j) {
                    const float want = j >= offset && j < offset + len ? src[j - offset] : -1.f;
                    QVERIFY2(
                        dst[j] == want,
                        qPrintable(
                            QString("offset %1 length %2 index %3").arg(offset).arg(len).arg(j)));
                }
            }
    }

    // The whole pass under the data row's family gives the scalar family's bits: values,
    // sums, histograms and code counts, for uniform steps and k-bit channels and groups (a
    // misaligned output takes the plain stores before the streaming ones).
    void passAgreesWithScalar_data() { isaRows(); }
    void passAgreesWithScalar() {
        QFETCH(int, isa);
        const FusedKernels* k = familyOf(isa);
        if (!k) QSKIP("this CPU lacks the data row's kernel family");
        const long long rows = 61, cols = 97;
        std::mt19937 rng(15);
        std::normal_distribution<float> dist(0.f, 0.05f);
        std::vector<float> w(static_cast<std::size_t>(rows * cols));
        for (std::size_t i = 0; i < w.size(); ++i)
            w[i] = i % 13 == 0 ? (static_cast<float>(i % 7) - 3.5f) * 0.0078125f : dist(rng);
        QuantSettings channel, group;
        channel.bits = 4;
        channel.granularity = Granularity::Channel;
        group.bits = 3;
        group.scheme = QuantScheme::Asymmetric;
        group.granularity = Granularity::Group;
        group.groupSize = 32;
        FusedJob uniform;
        uniform.in = MatrixView{w.data(), rows, cols};
        uniform.keep = KeepRule{KeepRule::Kind::Threshold, 0.02f, nullptr};
        uniform.quant = QuantKind::Uniform;
        uniform.alpha = 0.0078125f;
        uniform.codeBase = -64;
        uniform.codeSpan = 129;
        FusedJob perChannel = uniform, perGroup = uniform;
        const UnitQuantizers cu = chooseUnitQuantizers(uniform.in, uniform.keep, channel, 1);
        const UnitQuantizers gu = chooseUnitQuantizers(uniform.in, uniform.keep, group, 1);
        perChannel.quant = perGroup.quant = QuantKind::Affine;
        perChannel.units = &cu;
        perGroup.units = &gu;
        perChannel.codeBase = -8;
        perChannel.codeSpan = 16;
        perGroup.codeBase = -8;
        perGroup.codeSpan = 16;
        FusedOptions options;
        options.weights = HistogramSpec{128, -0.15, 0.15};
        options.error = HistogramSpec{64, -0.006, 0.006};
        options.threads = 2;
        options.chunk = 1000;

        auto run = [&](Isa family, std::vector<float>& out) {
            const Isa before = quant::activeIsa();
            quant::setActiveIsa(family);
            std::vector<FusedJob> jobs{uniform, perChannel, perGroup};
            out.assign(jobs.size() * w.size() + 1, -1.f);
            for (std::size_t t = 0; t < jobs.size(); ++t)
                jobs[t].out = out.data() + 1 + t * w.size();  // 4 bytes past a boundary
            auto r = runFusedPass(jobs, options, {});
            quant::setActiveIsa(before);
            return r;
        };
        std::vector<float> outRef, outIsa;
        const auto ref = run(Isa::Scalar, outRef);
        const auto got = run(static_cast<Isa>(isa), outIsa);
        QVERIFY(sameBits(outRef.data(), outIsa.data(), static_cast<int>(outRef.size() * 4)));
        for (std::size_t t = 0; t < ref.size(); ++t) {
            QCOMPARE(got[t].zeros, ref[t].zeros);
            QCOMPARE(got[t].originalZeros, ref[t].originalZeros);
            QVERIFY(sameBits(&got[t].sumSquares, &ref[t].sumSquares, 8));
            QVERIFY(sameBits(&got[t].sumSquaredError, &ref[t].sumSquaredError, 8));
            QVERIFY(sameBits(&got[t].maxAbsError, &ref[t].maxAbsError, 8));
            QCOMPARE(got[t].codeCounts, ref[t].codeCounts);
            QCOMPARE(got[t].original.counts, ref[t].original.counts);
            QCOMPARE(got[t].compressed.counts, ref[t].compressed.counts);
            QCOMPARE(got[t].error.counts, ref[t].error.counts);
            QCOMPARE(got[t].error.overflow, ref[t].error.overflow);
        }
        QVERIFY(ref[0].zeros > 0 && ref[0].zeros < rows * cols);  // the rule prunes some
    }
};

QTEST_APPLESS_MAIN(FusedKernelsTest)
#include "fused_kernels_test.moc"
