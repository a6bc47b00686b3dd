// The row API the forward pass calls: matmulPacked against a naive loop of reference dot
// products (bit for bit on the scalar path, and each family equal to its own vecDot), the
// same bits for every thread count, the product of the decoded matrix with the activations
// within the quantization error; a group of matrices sharing activations; row checks and
// errors; the worker pool.
#include "core/quant/quant_rows.h"

#include <QtTest>
#include <atomic>
#include <cmath>
#include <cstring>
#include <random>

#include "core/error.h"
#include "core/quant/block_formats.h"
#include "core/util/worker_pool.h"
#include "tests/support/isa_scope.h"

using namespace cwb;
using quant::Isa;
using test::IsaScope;

namespace {

struct Problem {
    DType type;
    std::int64_t rows, cols, tokens;
    std::vector<std::byte> w;
    std::vector<float> x;
};

Problem makeProblem(DType type, std::int64_t rows, std::int64_t cols, std::int64_t tokens,
                    unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.f, 1.f);
    Problem p{type, rows, cols, tokens, {}, {}};
    const std::size_t rowBytes = quant::rowBytes(type, cols);
    p.w.resize(rowBytes * static_cast<std::size_t>(rows));
    std::vector<float> row(static_cast<std::size_t>(cols));
    for (std::int64_t r = 0; r < rows; ++r) {
        for (auto& v : row) v = 0.05f * dist(rng);
        quant::quantizeRow(type, row.data(), p.w.data() + r * rowBytes, cols);
    }
    p.x.resize(static_cast<std::size_t>(tokens * cols));
    for (auto& v : p.x) v = dist(rng);
    return p;
}

std::vector<float> run(const Problem& p, int threads) {
    std::vector<float> y(static_cast<std::size_t>(p.tokens * p.rows), NAN);
    quant::matmulPacked({p.type, p.w.data(), p.rows, p.cols, 0}, p.x.data(), p.tokens, y.data(),
                        threads);
    return y;
}

}  // namespace

class QuantRowsTest : public QObject {
    Q_OBJECT
private slots:
    void matmulEqualsDotProducts_data() {
        QTest::addColumn<int>("type");
        for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0,
                        DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::F32,
                        DType::F16, DType::BF16})
            QTest::newRow(dtypeName(t).c_str()) << static_cast<int>(t);
    }
    void matmulEqualsDotProducts() {
        QFETCH(int, type);
        const auto t = static_cast<DType>(type);
        const std::size_t rowBytes = quant::rowBytes(t, 512);
        // Batches below kBatchTokens use vecDot's kernel; larger ones (rows past a whole tile
        // of 8 or 16) the tiles: the reference kernels' bits for block formats.
        for (std::int64_t tokens : {std::int64_t(1), quant::kBatchTokens - 1, quant::kBatchTokens,
                                    std::int64_t(9), std::int64_t(37)}) {
            const Problem p = makeProblem(t, 37, 512, tokens, static_cast<unsigned>(type));
            std::vector<float> byIsa[3];
            for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
                if (!quant::isaSupported(isa)) continue;
                IsaScope scope(isa);
                const bool batched = tokens >= quant::kBatchTokens && isa != Isa::Scalar;
                const auto y1 = run(p, 1);
                byIsa[static_cast<int>(isa)] = y1;
                for (std::int64_t tok = 0; tok < p.tokens; ++tok) {
                    std::vector<std::byte> a(quant::rowBytes(quant::activationType(t), p.cols));
                    quant::quantizeActivationRow(t, p.x.data() + tok * p.cols, a.data(), p.cols);
                    for (std::int64_t r = 0; r < p.rows; ++r) {
                        const std::byte* w = p.w.data() + r * rowBytes;
                        const float got = y1[tok * p.rows + r];
                        if (!batched) {
                            QCOMPARE(got, quant::vecDot(t, w, a.data(), p.cols));
                        } else if (dtypeIsBlock(t)) {  // tiles: the reference kernel's bits
                            QCOMPARE(got, quant::blockFormat(t).vecDot[0](w, a.data(), p.cols));
                        } else {  // float rows: another order of float additions
                            std::vector<float> wd(static_cast<std::size_t>(p.cols));
                            quant::dequantizeRow(t, w, wd.data(), p.cols);
                            double exact = 0, scale = 0;
                            for (std::int64_t i = 0; i < p.cols; ++i) {
                                exact += double(wd[i]) * p.x[tok * p.cols + i];
                                scale += std::fabs(double(wd[i]) * p.x[tok * p.cols + i]);
                            }
                            QVERIFY(std::fabs(got - exact) <= 1e-6 * scale);
                        }
                    }
                }
                for (int threads : {2, 3, 8}) QVERIFY(run(p, threads) == y1);
            }
            // Float rows' AVX2 and AVX-512 tiles run each sum in the same order: the same bits.
            if (tokens >= quant::kBatchTokens && quant::isaSupported(Isa::Avx512))
                QVERIFY(byIsa[static_cast<int>(Isa::Avx2)] == byIsa[static_cast<int>(Isa::Avx512)]);
        }
        const Problem p = makeProblem(t, 37, 512, 5, static_cast<unsigned>(type));
        // The scalar path is the naive loop of reference kernels.
        IsaScope scalar(Isa::Scalar);
        const auto y = run(p, 2);
        std::vector<float> wd(static_cast<std::size_t>(p.cols));
        for (std::int64_t r = 0; r < p.rows; ++r) {
            quant::dequantizeRow(t, p.w.data() + r * rowBytes, wd.data(), p.cols);
            for (std::int64_t tok = 0; tok < p.tokens; ++tok) {
                // float32 weights and activations: only the activations' quantization differs
                double exact = 0, scale = 0;
                for (std::int64_t i = 0; i < p.cols; ++i) {
                    exact += double(wd[i]) * p.x[tok * p.cols + i];
                    scale += std::fabs(double(wd[i]) * p.x[tok * p.cols + i]);
                }
                const double allowed =
                    quant::activationType(t) == DType::F32 ? 1e-5 * scale : 0.02 * scale;
                QVERIFY(std::fabs(y[tok * p.rows + r] - exact) <= allowed);
            }
        }
    }

    void leadingDimensionAndReuse() {
        const Problem p = makeProblem(DType::Q4_K, 8, 256, 3, 9);
        const auto act = quant::quantizeActivations(DType::Q6_K, p.x.data(), p.tokens, p.cols, 2);
        QCOMPARE(act.type, DType::Q8_K);  // shared by every K format
        std::vector<float> wide(static_cast<std::size_t>(p.tokens * 20), -1.f);
        quant::matmulPacked({p.type, p.w.data(), p.rows, p.cols, 0}, act, wide.data() + 4, 2, 20);
        const auto y = run(p, 1);
        for (std::int64_t t = 0; t < p.tokens; ++t) {
            QCOMPARE(wide[t * 20 + 3], -1.f);
            for (std::int64_t r = 0; r < p.rows; ++r)
                QCOMPARE(wide[t * 20 + 4 + r], y[t * p.rows + r]);
            QCOMPARE(wide[t * 20 + 4 + p.rows], -1.f);
        }
    }

    void groupEqualsSeparateProducts_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("tokens");
        for (DType t : {DType::Q4_0, DType::Q8_0, DType::Q4_K, DType::Q6_K, DType::F16})
            for (int tokens : {1, 5, 21})
                QTest::addRow("%s, %d tokens", dtypeName(t).c_str(), tokens)
                    << static_cast<int>(t) << tokens;
    }
    // Rows of 37, 70 and 5 (the shares of the threads and the matrices' borders do not
    // line up): every matrix of a group gets the bits matmulPacked gives it alone.
    void groupEqualsSeparateProducts() {
        QFETCH(int, type);
        QFETCH(int, tokens);
        const auto t = static_cast<DType>(type);
        std::vector<Problem> problems;
        for (std::int64_t rows : {37, 70, 5})
            problems.push_back(makeProblem(t, rows, 512, 1, static_cast<unsigned>(rows + type)));
        std::vector<float> x(static_cast<std::size_t>(tokens * 512));
        std::mt19937 rng(5);
        std::normal_distribution<float> dist(0.f, 1.f);
        for (auto& v : x) v = dist(rng);
        const auto act = quant::quantizeActivations(t, x.data(), tokens, 512);
        for (int threads : {1, 2, 3}) {
            std::vector<std::vector<float>> alone, grouped;
            std::vector<quant::PackedProduct> products;
            for (const Problem& p : problems) {
                alone.emplace_back(static_cast<std::size_t>(tokens * p.rows), NAN);
                grouped.emplace_back(static_cast<std::size_t>(tokens * p.rows), NAN);
                quant::matmulPacked({t, p.w.data(), p.rows, p.cols, 0}, act, alone.back().data(),
                                    1);
            }
            for (std::size_t i = 0; i < problems.size(); ++i)
                products.push_back(
                    {{t, problems[i].w.data(), problems[i].rows, 512, 0}, grouped[i].data(), 0});
            quant::matmulPackedGroup(products, act, threads);
            for (std::size_t i = 0; i < problems.size(); ++i)
                QVERIFY(std::memcmp(alone[i].data(), grouped[i].data(),
                                    alone[i].size() * sizeof(float)) == 0);
        }
    }

    void rowChecksAndErrors() {
        QCOMPARE(quant::rowBytes(DType::Q4_0, 64), std::size_t(36));
        QCOMPARE(quant::rowBytes(DType::Q6_K, 512), std::size_t(420));
        QCOMPARE(quant::rowBytes(DType::BF16, 3), std::size_t(6));
        QVERIFY_THROWS_EXCEPTION(Error, quant::rowBytes(DType::Q4_K, 300));
        QVERIFY(quant::isWeightType(DType::Q3_K) && quant::isWeightType(DType::F16));
        QVERIFY(!quant::isWeightType(DType::Q8_K) && !quant::isWeightType(DType::I8));
        QCOMPARE(quant::activationType(DType::Q4_1), DType::Q8_1);
        QCOMPARE(quant::activationType(DType::BF16), DType::F32);
        std::vector<std::byte> w(292), a(292);
        QVERIFY_THROWS_EXCEPTION(Error, quant::vecDot(DType::Q8_K, w.data(), a.data(), 256));
        QVERIFY_THROWS_EXCEPTION(Error, quant::vecDot(DType::I32, w.data(), a.data(), 4));
        const Problem p = makeProblem(DType::Q4_0, 2, 64, 1, 3);
        const auto wrong = quant::quantizeActivations(DType::Q4_1, p.x.data(), 1, 64);
        std::vector<float> y(2);
        QVERIFY_THROWS_EXCEPTION(
            Error, quant::matmulPacked({DType::Q4_0, p.w.data(), 2, 64, 0}, wrong, y.data(), 1));
        if (!quant::isaSupported(Isa::Avx512))
            QVERIFY_THROWS_EXCEPTION(Error, quant::setActiveIsa(Isa::Avx512));
        // F16 and BF16 rows round to nearest even
        const float v[2] = {1.0f + 0x1p-11f, 1.0f + 3 * 0x1p-8f};
        std::uint16_t h[2];
        quant::quantizeRow(DType::F16, v, reinterpret_cast<std::byte*>(h), 1);
        QCOMPARE(h[0], std::uint16_t(0x3c00));
        quant::quantizeRow(DType::BF16, v + 1, reinterpret_cast<std::byte*>(h + 1), 1);
        QCOMPARE(h[1], std::uint16_t(0x3f82));
    }

    void workerPoolSlicesAndErrors() {
        WorkerPool pool(3);
        for (long long count : {1LL, 2LL, 3LL, 10LL, 1000LL}) {
            std::vector<int> owner(static_cast<std::size_t>(count), -1);
            std::atomic<bool> empty{false};
            for (int rep = 0; rep < 50; ++rep)
                pool.run(count, [&](long long b, long long e, int worker) {
                    if (b >= e) empty = true;
                    for (long long i = b; i < e; ++i) owner[i] = worker;
                });
            QVERIFY(!empty);
            // contiguous slices, as parallelFor cuts them: worker w takes [count w / s, count (w +
            // 1) / s)
            const long long slices = std::min<long long>(3, count);
            for (long long w = 0; w < slices; ++w)
                for (long long i = count * w / slices; i < count * (w + 1) / slices; ++i)
                    QCOMPARE(owner[i], static_cast<int>(w));
        }
        bool thrown = false;
        try {
            pool.run(9, [](long long b, long long, int) {
                if (b > 0) throw Error("slice failed");
            });
        } catch (const Error&) {
            thrown = true;
        }
        QVERIFY(thrown);
        long long total = 0;
        pool.run(4, [&](long long b, long long e, int) {
            for (long long i = b; i < e; ++i) __atomic_add_fetch(&total, i, __ATOMIC_RELAXED);
        });
        QCOMPARE(total, 6LL);  // still working after an exception
    }
};

QTEST_APPLESS_MAIN(QuantRowsTest)
#include "quant_rows_test.moc"
