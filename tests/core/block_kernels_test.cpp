// Every vector kernel of the block formats against its plain reference, on every kernel
// family this CPU has (AVX2, AVX-512 VNNI; families it lacks are skipped and named):
// activation quantizers byte for byte, dot products within a stated float tolerance. The
// integer sums inside a block are exact in both; only the order of float additions differs,
// so the tolerance is 4 sqrt(n) float roundings of S = sum over values of
// (|w| + M) |a|, M the largest |w| of the value's block (which bounds the minimum terms).
// A wrong code in a single value changes the result by about S / n, far above it.
#include <QtTest>
#include <cmath>
#include <cstring>
#include <random>

#include "core/quant/block_formats.h"
#include "core/quant/quant_rows.h"

using namespace cwb;
using quant::Isa;

namespace {

const std::vector<DType> kWeightTypes = {
    DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K,
    DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::F32,  DType::F16,  DType::BF16};

// Values with a shape that exercises the formats: a skew, and an outlier now and then.
std::vector<float> randomValues(std::int64_t n, std::mt19937& rng, float skew) {
    std::normal_distribution<float> dist(skew, 1.f);
    std::uniform_int_distribution<int> pick(0, 40);
    std::vector<float> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = dist(rng) * (pick(rng) == 0 ? 6.f : 1.f);
    return v;
}

std::vector<std::byte> quantized(DType type, const std::vector<float>& v) {
    std::vector<std::byte> out(quant::rowBytes(type, static_cast<std::int64_t>(v.size())));
    quant::quantizeRow(type, v.data(), out.data(), static_cast<std::int64_t>(v.size()));
    return out;
}

std::vector<float> decoded(DType type, const std::vector<std::byte>& row, std::int64_t n) {
    std::vector<float> out(static_cast<std::size_t>(n));
    quant::dequantizeRow(type, row.data(), out.data(), n);
    return out;
}

// The float rows' kernels are reached through the active family.
float dotWith(DType type, Isa isa, const std::vector<std::byte>& w, const std::vector<std::byte>& a,
              std::int64_t n) {
    if (dtypeIsBlock(type))
        return quant::blockFormat(type).vecDot[static_cast<int>(isa)](w.data(), a.data(), n);
    const Isa before = quant::activeIsa();
    quant::setActiveIsa(isa);
    const float r = quant::vecDot(type, w.data(), a.data(), n);
    quant::setActiveIsa(before);
    return r;
}

}  // namespace

class BlockKernelsTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        for (Isa isa : {Isa::Avx2, Isa::Avx512})
            if (!quant::isaSupported(isa))
                qInfo("this CPU has no %s: its kernels are not tested here",
                      quant::isaName(isa).c_str());
    }

    void activationQuantizersGiveReferenceBytes() {
        std::mt19937 rng(11);
        for (DType act : {DType::Q8_0, DType::Q8_1, DType::Q8_K}) {
            const auto& f = quant::blockFormat(act);
            for (int trial = 0; trial < 30; ++trial) {
                const std::int64_t n = f.blockSize * (1 + trial % 5);
                auto x = randomValues(n, rng, trial % 3 == 0 ? 0.5f : 0.f);
                if (trial == 1) std::fill(x.begin(), x.begin() + f.blockSize, 0.f);  // a zero block
                if (trial == 2)
                    x[3] = -x[5] * 1.0f, x[5] = std::fabs(x[5]) + 100.f;  // ties of |max|
                if (trial == 4)  // exact halves: roundf and round-half-even differ on them
                    for (std::int64_t i = 0; i < n; ++i) x[i] = 0.5f * float(i % 64 - 32);
                std::vector<std::byte> ref(quant::rowBytes(act, n)), fast(ref.size());
                f.fromFloatRef(x.data(), ref.data(), n);
                for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
                    if (!quant::isaSupported(isa)) continue;
                    std::fill(fast.begin(), fast.end(), std::byte{0x55});
                    f.fromFloat[static_cast<int>(isa)](x.data(), fast.data(), n);
                    QVERIFY2(fast == ref, qPrintable(QString("%1 on %2, trial %3")
                                                         .arg(dtypeName(act).c_str(),
                                                              quant::isaName(isa).c_str())
                                                         .arg(trial)));
                }
            }
        }
    }

    void fastDotsMatchReference_data() {
        QTest::addColumn<int>("type");
        for (DType t : kWeightTypes) QTest::newRow(dtypeName(t).c_str()) << static_cast<int>(t);
    }
    void fastDotsMatchReference() {
        QFETCH(int, type);
        const auto t = static_cast<DType>(type);
        const DType act = quant::activationType(t);
        const std::int64_t block = std::max<std::int64_t>(dtypeBlockSize(t), dtypeBlockSize(act));
        std::mt19937 rng(static_cast<unsigned>(type) * 7 + 1);
        const std::vector<std::int64_t> lengths =
            dtypeIsBlock(t) ? std::vector<std::int64_t>{block, 3 * block,
                                                        25 * block / (block == 32 ? 1 : 5), 4096}
                            : std::vector<std::int64_t>{1, 7, 33, 100, 4096};
        int checked = 0;
        for (std::int64_t n : lengths) {
            for (int trial = 0; trial < 6; ++trial) {
                const auto wv = randomValues(n, rng, trial % 2 ? 0.7f : 0.f);
                const auto av = randomValues(n, rng, trial % 3 ? 0.f : -0.4f);
                auto w = quantized(t, wv);
                if (t == DType::Q8_0 && trial == 5)  // codes of -128, which files may hold
                    for (std::size_t b = 0; b < w.size(); b += 34)
                        w[b + 2 + (b / 34) % 32] = std::byte{0x80};
                std::vector<std::byte> a(quant::rowBytes(act, n));
                quant::quantizeActivationRow(t, av.data(), a.data(), n);
                // S for the tolerance, from the decoded values.
                const auto wd = decoded(t, w, n), ad = decoded(act, a, n);
                const std::int64_t wBlock = static_cast<std::int64_t>(dtypeBlockSize(t));
                double s = 0, sumRounding = 0;
                for (std::int64_t b = 0; b < n; b += wBlock) {
                    double m = 0, sum = 0;
                    for (std::int64_t i = b; i < b + wBlock; ++i)
                        m = std::max(m, double(std::fabs(wd[i])));
                    for (std::int64_t i = b; i < b + wBlock; ++i) {
                        s += (std::fabs(wd[i]) + (dtypeIsBlock(t) ? m : 0.)) * std::fabs(ad[i]);
                        sum += ad[i];
                    }
                    // Q8_1 keeps d * sum(codes) in fp16, from the unrounded d: up to 2^-10 of it.
                    sumRounding += m * std::fabs(sum) * std::ldexp(1.0, -10);
                }
                const double tolerance =
                    4 * std::sqrt(double(n)) * std::ldexp(1.0, -24) * s + 1e-30;
                const float ref = dotWith(t, Isa::Scalar, w, a, n);
                for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
                    if (!quant::isaSupported(isa)) continue;
                    const float fast = dotWith(t, isa, w, a, n);
                    if (std::fabs(double(fast) - ref) > tolerance)
                        QFAIL(qPrintable(
                            QString("%1 on %2, n %3: %4 against reference %5 (tolerance %6)")
                                .arg(dtypeName(t).c_str(), quant::isaName(isa).c_str())
                                .arg(n)
                                .arg(double(fast), 0, 'g', 9)
                                .arg(double(ref), 0, 'g', 9)
                                .arg(tolerance)));
                    ++checked;
                }
                // The reference itself against the float dot product of the decoded rows
                // (the decoders are exact; only this sum's order differs from the integer one,
                // and Q8_1's fp16 sum term).
                double exact = 0;
                for (std::int64_t i = 0; i < n; ++i) exact += double(wd[i]) * ad[i];
                const double slack = act == DType::Q8_1 ? sumRounding : 0.;
                QVERIFY2(std::fabs(exact - ref) <= 4 * tolerance + slack + 1e-6 * std::fabs(exact),
                         qPrintable(QString("%1 n %2: reference %3, decoded rows %4")
                                        .arg(dtypeName(t).c_str())
                                        .arg(n)
                                        .arg(double(ref))
                                        .arg(exact)));
            }
        }
        if (!checked) qInfo("no vector kernel family on this CPU");
    }
};

QTEST_APPLESS_MAIN(BlockKernelsTest)
#include "block_kernels_test.moc"
