// The vector encoders and the error kernels of the weight formats against the reference
// quantizers (whose bytes block_fixtures_test holds to llama-quantize's): every encoder must
// write the reference's bytes, and every error kernel must give the squared error of the
// reference's blocks decoded, computed here by the plain route (encode, decode, a sum in
// double), within the rounding of a differently ordered sum. Data: random values of several
// shapes with the edge cases of each rule (zero and flat blocks, ties of |max|, exact halves,
// fp16 underflow and overflow of the scales, NaN and infinity), and the bf16 weights of
// kjv-llama-6m.
#include <QtTest>
#include <cmath>
#include <limits>
#include <random>

#include "core/io/safetensors.h"
#include "core/quant/block_formats.h"
#include "core/quant/quant_rows.h"
#include "core/util/mapped_file.h"
#include "tests/support/test_paths.h"

using namespace cwb;
using quant::Isa;

namespace {

const std::vector<DType> kFormats = {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                                     DType::Q8_0, DType::Q2_K, DType::Q3_K, DType::Q4_K,
                                     DType::Q5_K, DType::Q6_K};

// The error of the reference's blocks: encoded by fromFloatRef, decoded, summed in order.
double plainError(DType type, const float* x, std::int64_t n) {
    const auto& f = quant::blockFormat(type);
    std::vector<std::byte> blocks(quant::rowBytes(type, n));
    std::vector<float> back(static_cast<std::size_t>(n));
    f.fromFloatRef(x, blocks.data(), n);
    f.toFloat(blocks.data(), back.data(), n);
    double sum = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
        const double d = double(back[i]) - x[i];
        sum += d * d;
    }
    return sum;
}

// Equal up to the order of additions of n non-negative terms in double.
bool sameSum(double a, double b, std::int64_t n) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    if (std::isinf(a) || std::isinf(b)) return a == b;
    return std::fabs(a - b) <= double(n) * 1e-16 * std::max(a, b) + 1e-300;
}

// 4096 values (16 super-blocks) of one of several shapes; `kind` picks it.
std::vector<float> values(int kind, std::mt19937& rng) {
    constexpr int n = 4096;
    std::normal_distribution<float> normal(0.f, 1.f);
    std::uniform_int_distribution<int> pick(0, 40);
    std::vector<float> v(n);
    const float scale = kind == 6 ? 1e-9f : kind == 7 ? 3e4f : kind == 8 ? 5e6f : 0.02f;
    for (auto& x : v)
        x = scale * (normal(rng) + (kind == 1 ? 0.6f : 0.f)) * (pick(rng) ? 1.f : 8.f);
    switch (kind) {
        case 2:  // zero blocks and sub-blocks, flat ones, one value alone in its sub-block
            std::fill(v.begin(), v.begin() + 256, 0.f);
            std::fill(v.begin() + 256, v.begin() + 288, 0.5f);
            std::fill(v.begin() + 512, v.begin() + 528, -0.25f);
            std::fill(v.begin() + 768, v.begin() + 800, 0.f);
            v[790] = 0.03f;
            std::fill(v.begin() + 1024, v.begin() + 1280, -0.f);
            v[1100] = 0.f;
            break;
        case 3:  // ties of |max| with both signs, and -0 / +0 extremes
            for (int b = 0; b < n; b += 32) {
                v[b + 3] = 0.1f;
                v[b + 9] = -0.1f;
            }
            for (int b = 2048; b < n; b += 64) v[b + 5] = -0.f, v[b + 6] = 0.f;
            break;
        case 4:  // exact halves and small integers: every rounding tie
            for (int i = 0; i < n; ++i)
                v[i] = 0.5f * float(i % 64 - 32) * (i % 256 < 128 ? 1 : 0.25f);
            break;
        case 5:  // all positive, all negative
            for (int i = 0; i < n / 2; ++i) v[i] = std::fabs(v[i]) + 0.01f;
            for (int i = n / 2; i < n; ++i) v[i] = -std::fabs(v[i]) - 0.01f;
            break;
        case 9:  // NaN and infinities in a few blocks
            v[40] = std::numeric_limits<float>::quiet_NaN();
            v[700] = std::numeric_limits<float>::infinity();
            v[3000] = -std::numeric_limits<float>::infinity();
            break;
        default:
            break;
    }
    return v;
}
constexpr int kKinds = 10;

std::vector<std::vector<float>> fixtureRows() {
    std::vector<std::vector<float>> rows;
    for (const char* shard :
         {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}) {
        const std::string path = test::llmFixture(std::string("kjv-llama-6m/") + shard);
        for (auto& t : parseSafetensors(mapFile(path), path)) {
            if (t.tensor.shape().size() != 2) continue;
            const std::vector<float> all = t.tensor.toFloatVector();
            const std::int64_t cols = t.tensor.shape()[1];
            // Every seventh row of every matrix: each tensor's range, at a few seconds.
            for (std::int64_t r = 0; r < t.tensor.shape()[0]; r += 7)
                rows.emplace_back(all.begin() + r * cols, all.begin() + (r + 1) * cols);
        }
    }
    return rows;
}

}  // namespace

class BlockErrorTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        if (!quant::isaSupported(Isa::Avx2))
            qInfo("this CPU has no AVX2: only the reference kernels are checked");
    }

    void encodersAndErrorsMatchReference_data() {
        QTest::addColumn<int>("type");
        for (DType t : kFormats) QTest::newRow(dtypeName(t).c_str()) << static_cast<int>(t);
    }
    void encodersAndErrorsMatchReference() {
        QFETCH(int, type);
        const auto t = static_cast<DType>(type);
        const auto& f = quant::blockFormat(t);
        std::mt19937 rng(static_cast<unsigned>(type) + 5);
        for (int kind = 0; kind < kKinds; ++kind) {
            const std::vector<float> x = values(kind, rng);
            const auto n = static_cast<std::int64_t>(x.size());
            std::vector<std::byte> ref(quant::rowBytes(t, n)), fast(ref.size());
            f.fromFloatRef(x.data(), ref.data(), n);
            const double expected = plainError(t, x.data(), n);
            for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
                if (!quant::isaSupported(isa)) continue;
                const QString where = QString("%1, kind %2, %3")
                                          .arg(dtypeName(t).c_str())
                                          .arg(kind)
                                          .arg(quant::isaName(isa).c_str());
                std::fill(fast.begin(), fast.end(), std::byte{0x55});
                f.fromFloat[static_cast<int>(isa)](x.data(), fast.data(), n);
                // NaN scales may differ in their payload bits only where the input is NaN.
                if (kind != 9) QVERIFY2(fast == ref, qPrintable(where));
                const double got = f.squaredError[static_cast<int>(isa)](x.data(), n);
                QVERIFY2(sameSum(got, expected, n),
                         qPrintable(where + QString(": %1 against %2").arg(got).arg(expected)));
                // The AVX-512 error kernels sum in the AVX2 ones' lanes and order.
                if (isa == Isa::Avx512) {
                    const double avx2 = f.squaredError[static_cast<int>(Isa::Avx2)](x.data(), n);
                    QVERIFY2(
                        got == avx2 || (std::isnan(got) && std::isnan(avx2)),
                        qPrintable(where + QString(": %1 against AVX2's %2").arg(got).arg(avx2)));
                }
            }
        }
    }

    // Several formats at once (what the whole-model table asks for each row): each error is
    // the plain route's, and the one-format kernel's bit for bit; the 32-value formats share
    // one pass, more than five of them (a repeat) in two, and a row whose last group of
    // blocks is short.
    void severalFormatsInOnePass() {
        std::mt19937 rng(77);
        const std::vector<DType> every = {DType::Q8_0, DType::Q4_K, DType::Q4_0, DType::Q4_1,
                                          DType::Q6_K, DType::Q5_0, DType::Q5_1, DType::Q2_K,
                                          DType::Q8_0, DType::Q3_K, DType::Q5_K};
        const std::vector<DType> legacy = {DType::Q5_1, DType::Q4_0, DType::Q8_0};
        for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
            if (!quant::isaSupported(isa)) continue;
            const Isa before = quant::activeIsa();
            quant::setActiveIsa(isa);
            for (int kind = 0; kind < kKinds; ++kind) {
                std::vector<float> x = values(kind, rng);
                for (const auto* types : {&every, &legacy}) {
                    // The legacy list on 123 blocks: fifteen groups of eight and one of three.
                    const std::int64_t n = types == &every ? std::int64_t(x.size()) : 123 * 32;
                    std::vector<double> got(types->size());
                    quant::quantizationErrors(*types, x.data(), n, got.data());
                    for (std::size_t k = 0; k < types->size(); ++k) {
                        const DType t = (*types)[k];
                        const QString where = QString("%1, kind %2, %3, n %4")
                                                  .arg(dtypeName(t).c_str())
                                                  .arg(kind)
                                                  .arg(quant::isaName(isa).c_str())
                                                  .arg(n);
                        const double plain = plainError(t, x.data(), n);
                        QVERIFY2(
                            sameSum(got[k], plain, n),
                            qPrintable(where + QString(": %1 against %2").arg(got[k]).arg(plain)));
                        const double alone = quant::quantizationError(t, x.data(), n);
                        QVERIFY2(got[k] == alone || (std::isnan(got[k]) && std::isnan(alone)),
                                 qPrintable(where));
                    }
                }
            }
            quant::setActiveIsa(before);
        }
    }

    // The kjv-llama-6m weights: real rows, every format, bytes and errors.
    void fixtureWeightsMatchReference() {
        const auto rows = fixtureRows();
        QVERIFY(rows.size() > 400);
        for (DType t : kFormats) {
            const auto& f = quant::blockFormat(t);
            std::int64_t differingRows = 0;
            double fast = 0.0, plain = 0.0;
            std::int64_t n = 0;
            for (const auto& row : rows) {
                const auto cols = static_cast<std::int64_t>(row.size());
                std::vector<std::byte> a(quant::rowBytes(t, cols)), b(a.size());
                f.fromFloatRef(row.data(), a.data(), cols);
                quant::quantizeRow(t, row.data(), b.data(), cols);
                differingRows += a != b;
                fast += quant::quantizationError(t, row.data(), cols);
                plain += plainError(t, row.data(), cols);
                n += cols;
            }
            QVERIFY2(differingRows == 0, dtypeName(t).c_str());
            QVERIFY2(
                sameSum(fast, plain, n),
                qPrintable(
                    QString("%1: %2 against %3").arg(dtypeName(t).c_str()).arg(fast).arg(plain)));
        }
    }
};

QTEST_APPLESS_MAIN(BlockErrorTest)
#include "block_error_test.moc"
