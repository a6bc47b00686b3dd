// The fused pass against a naive two-pass computation written here from the definitions
// (mask, quantize, then statistics in a second loop), and bitwise determinism of the
// fused pass for 1, 2 and 4 threads.
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "core/compress/compress_model.h"

using namespace cwb;

namespace {

Layer denseLayer(const std::string& name, int in, int out, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.f, 0.15f);
    std::vector<float> w(static_cast<std::size_t>(in) * out);
    for (auto& v : w) v = dist(rng);
    for (std::size_t i = 0; i < w.size(); i += 97) w[i] = 0.f;  // some exact zeros
    Layer l;
    l.name = name;
    l.className = "Dense";
    l.kind = LayerKind::Dense;
    l.units = out;
    l.kernel = Tensor::fromFloats({in, out}, w);
    l.bias = Tensor::zeros({out});
    return l;
}

// Dense 300x77 -> conv-like shape is irrelevant to compression, so kernels of several odd
// sizes (one spanning several chunks) are enough.
Model testModel() {
    Model m;
    m.sourcePath = "random";
    m.inputShape = {300};
    m.layers.push_back(denseLayer("a", 300, 77, 1));
    m.layers.push_back(denseLayer("b", 77, 1025, 2));
    m.layers.push_back(denseLayer("c", 1025, 129, 3));
    m.layers.push_back(denseLayer("d", 129, 10, 4));
    m.inferShapes();
    return m;
}

struct Naive {
    std::vector<float> out;
    std::set<long long> codes;
};

// Definition-level quantizer of one unit (no clipping unless asked), written independently.
struct UnitQ {
    float step = 0.f, zp = 0.f, qmin = 0.f, qmax = 0.f;
    float apply(float w, long long& code) const {
        if (step == 0.f) {
            code = 0;
            return 0.f;
        }
        float q = std::round(w / step) + zp;
        q = std::min(std::max(q, qmin), qmax);
        code = static_cast<long long>(q - zp);
        return (q - zp) * step;
    }
};

UnitQ naiveUnit(std::vector<float> kept, const QuantSettings& s) {
    UnitQ u;
    if (kept.empty()) {
        if (s.scheme == QuantScheme::Symmetric) {
            u.qmin = -float((1 << (s.bits - 1)) - 1);
            u.qmax = -u.qmin;
        } else {
            u.qmax = float((1 << s.bits) - 1);
        }
        return u;
    }
    float lo = *std::min_element(kept.begin(), kept.end()),
          hi = *std::max_element(kept.begin(), kept.end());
    if (s.clip == ClipMethod::Percentile) {
        auto pick = [](std::vector<float> v, double p) {
            std::sort(v.begin(), v.end());
            long long k = static_cast<long long>(std::ceil(p / 100.0 * v.size())) - 1;
            k = std::clamp<long long>(k, 0, static_cast<long long>(v.size()) - 1);
            return v[k];
        };
        if (s.scheme == QuantScheme::Symmetric) {
            for (auto& v : kept) v = std::fabs(v);
            hi = pick(kept, s.clipPercentile);
            lo = -hi;
        } else {
            hi = pick(kept, s.clipPercentile);
            lo = pick(kept, 100.0 - s.clipPercentile);
        }
    }
    if (s.scheme == QuantScheme::Symmetric) {
        const float top = float((1 << (s.bits - 1)) - 1);
        u.step = std::max(std::fabs(lo), std::fabs(hi)) / top;
        u.qmin = -top;
        u.qmax = top;
    } else {
        lo = std::min(lo, 0.f);
        hi = std::max(hi, 0.f);
        u.qmax = float((1 << s.bits) - 1);
        u.step = hi > lo ? (hi - lo) / u.qmax : 0.f;
        u.zp = u.step > 0.f ? std::clamp(std::round(-lo / u.step), 0.f, u.qmax) : 0.f;
    }
    return u;
}

Naive naiveCompress(const Tensor& kernel, const LayerSettings& s) {
    const auto w = kernel.floats();
    const long long cols = kernel.shape().back(), rows = static_cast<long long>(w.size()) / cols;
    std::vector<char> keep(w.size(), 1);
    if (s.prune.method == PruneMethod::Threshold)
        for (std::size_t i = 0; i < w.size(); ++i) keep[i] = std::fabs(w[i]) >= s.prune.rho;
    if (s.prune.method == PruneMethod::TextbookThreshold)
        for (std::size_t i = 0; i < w.size(); ++i) keep[i] = w[i] >= s.prune.rho;
    if (s.prune.method == PruneMethod::TargetSparsity) {
        std::vector<std::size_t> order(w.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](auto a, auto b) { return std::fabs(w[a]) < std::fabs(w[b]); });
        const auto prune = static_cast<std::size_t>(std::llround(s.prune.sparsity * w.size()));
        for (std::size_t k = 0; k < prune; ++k) keep[order[k]] = 0;
    }
    Naive n;
    n.out.resize(w.size());
    const QuantSettings& q = s.quant;
    if (q.bits == 0) {
        for (std::size_t i = 0; i < w.size(); ++i) {
            const float v = q.alpha > 0.f ? std::round(w[i] / q.alpha) * q.alpha : w[i];
            n.out[i] = keep[i] ? v : 0.f;
            if (q.alpha > 0.f) n.codes.insert(keep[i] ? std::llround(w[i] / q.alpha) : 0);
        }
        return n;
    }
    auto unitOf = [&](long long r, long long c) -> long long {
        if (q.granularity == Granularity::Channel) return c;
        if (q.granularity == Granularity::Group) return (r / q.groupSize) * cols + c;
        return 0;
    };
    std::map<long long, std::vector<float>> kept;
    for (long long r = 0; r < rows; ++r)
        for (long long c = 0; c < cols; ++c)
            if (keep[r * cols + c]) kept[unitOf(r, c)].push_back(w[r * cols + c]);
    std::map<long long, UnitQ> units;
    for (long long r = 0; r < rows; ++r)
        for (long long c = 0; c < cols; ++c) {
            const long long u = unitOf(r, c);
            if (!units.count(u)) units[u] = naiveUnit(kept[u], q);
            long long code = 0;
            const float v = units[u].apply(w[r * cols + c], code);
            const bool k = keep[r * cols + c];
            n.out[r * cols + c] = k ? v : 0.f;
            n.codes.insert(k ? code : 0);
        }
    return n;
}

std::vector<LayerSettings> settingsCases() {
    std::vector<LayerSettings> cases;
    LayerSettings s;
    s.quant.alpha = 0.02f;
    s.prune.rho = 0.05f;
    cases.push_back(s);  // the seed article's sliders
    s = {};
    s.quant.bits = 4;
    s.quant.scheme = QuantScheme::Asymmetric;
    s.quant.granularity = Granularity::Channel;
    cases.push_back(s);
    s = {};
    s.quant.bits = 3;
    s.quant.granularity = Granularity::Group;
    s.quant.groupSize = 32;
    s.quant.clip = ClipMethod::Percentile;
    s.quant.clipPercentile = 99.0;
    s.prune.rho = 0.01f;
    cases.push_back(s);
    s = {};
    s.quant.alpha = 0.01f;
    s.prune.method = PruneMethod::TargetSparsity;
    s.prune.sparsity = 0.5;
    cases.push_back(s);
    s = {};
    s.prune.method = PruneMethod::TextbookThreshold;
    cases.push_back(s);
    s = {};
    s.quant.bits = 8;
    s.quant.granularity = Granularity::Group;
    s.quant.groupSize = 128;
    s.quant.scheme = QuantScheme::Asymmetric;
    cases.push_back(s);
    return cases;
}

CompressionResult compress(const Model& m, const LayerSettings& s, int threads) {
    CompressionPlan plan;
    plan.defaults = s;
    plan.keepLastFloat = true;  // one untouched layer in the report too
    CompressOptions o;
    o.threads = threads;
    o.stats.weights.bins = 61;
    o.stats.error.bins = 33;
    return compressModel(m, plan, o);
}

bool sameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool sameHistogram(const Histogram& a, const Histogram& b) {
    return a.spec == b.spec && a.counts == b.counts && a.underflow == b.underflow &&
           a.overflow == b.overflow;
}

bool sameStats(const TensorStats& a, const TensorStats& b) {
    return a.elements == b.elements && a.zeros == b.zeros && a.originalZeros == b.originalZeros &&
           sameBits(a.sumSquares, b.sumSquares) && sameBits(a.sumSquaredError, b.sumSquaredError) &&
           sameBits(a.mse, b.mse) && sameBits(a.sqnrDb, b.sqnrDb) &&
           sameBits(a.maxAbsError, b.maxAbsError) && a.levels == b.levels &&
           a.effectiveBits == b.effectiveBits && a.size.bytes == b.size.bytes &&
           sameHistogram(a.original, b.original) && sameHistogram(a.compressed, b.compressed) &&
           sameHistogram(a.error, b.error);
}

}  // namespace

class CompressStatsTest : public QObject {
    Q_OBJECT
private slots:
    void fusedEqualsNaiveTwoPass() {
        const Model m = testModel();
        int caseIndex = 0;
        for (const auto& settings : settingsCases()) {
            const QString where = QString("case %1").arg(caseIndex++);
            const auto r = compress(m, settings, 2);
            Histogram totalOriginal, totalCompressed;
            for (std::size_t li = 0; li < m.layers.size(); ++li) {
                const bool compressed = li + 1 < m.layers.size();
                const auto& ls = r.layers[li];
                QCOMPARE(ls.compressed, compressed);
                const auto orig = m.layers[li].kernel.floats();
                std::vector<float> expected(orig.begin(), orig.end());
                std::set<long long> codes;
                if (compressed) {
                    Naive n = naiveCompress(m.layers[li].kernel, settings);
                    expected = n.out;
                    codes = n.codes;
                }
                const auto got = r.model.layers[li].kernel.floats();
                QVERIFY2(std::equal(got.begin(), got.end(), expected.begin()), qPrintable(where));

                // Second pass: statistics from the definitions.
                const TensorStats& s = ls.kernel;
                Histogram ho(s.original.spec), hc(s.original.spec), he(s.error.spec);
                long long zeros = 0;
                long double sq = 0, se = 0;
                double maxErr = 0;
                for (std::size_t i = 0; i < expected.size(); ++i) {
                    const double d = static_cast<double>(expected[i]) - orig[i];
                    zeros += expected[i] == 0.f;
                    sq += static_cast<long double>(orig[i]) * orig[i];
                    se += static_cast<long double>(d) * d;
                    maxErr = std::max(maxErr, std::fabs(d));
                    ho.add(orig[i]);
                    hc.add(expected[i]);
                    he.add(expected[i] - orig[i]);
                }
                QCOMPARE(s.zeros, zeros);
                QCOMPARE(s.maxAbsError, maxErr);
                QVERIFY2(std::fabs(s.sumSquares - static_cast<double>(sq)) <=
                             1e-12 * static_cast<double>(sq),
                         qPrintable(where));
                QVERIFY2(std::fabs(s.sumSquaredError - static_cast<double>(se)) <=
                             1e-12 * static_cast<double>(se) + 1e-300,
                         qPrintable(where));
                QVERIFY2(sameHistogram(s.original, ho), qPrintable(where));
                QVERIFY2(sameHistogram(s.compressed, hc), qPrintable(where));
                QVERIFY2(sameHistogram(s.error, he), qPrintable(where));
                // Automatic edges hold every value.
                QCOMPARE(ho.underflow + ho.overflow + hc.underflow + hc.overflow, std::uint64_t(0));
                QCOMPARE(he.underflow + he.overflow, std::uint64_t(0));
                if (compressed && (settings.quant.enabled()))
                    QCOMPARE(s.levels, static_cast<std::int64_t>(codes.size()));
                if (!compressed || !settings.quant.enabled()) {
                    std::set<float> distinct(expected.begin(), expected.end());
                    QCOMPARE(s.levels, static_cast<std::int64_t>(distinct.size()));
                }
                if (li == 0) {
                    totalOriginal = ho;
                    totalCompressed = hc;
                } else {
                    totalOriginal.merge(ho);
                    totalCompressed.merge(hc);
                }
            }
            QVERIFY(sameHistogram(r.total.weights.original, totalOriginal));
            QVERIFY(sameHistogram(r.total.weights.compressed, totalCompressed));
        }
    }

    void bitwiseIdenticalForAnyThreadCount() {
        const Model m = testModel();
        for (const auto& settings : settingsCases()) {
            const auto one = compress(m, settings, 1);
            for (int threads : {2, 4}) {
                const auto other = compress(m, settings, threads);
                for (std::size_t li = 0; li < m.layers.size(); ++li) {
                    const auto a = one.model.layers[li].kernel, b = other.model.layers[li].kernel;
                    QVERIFY(std::memcmp(a.bytes(), b.bytes(), a.byteSize()) == 0);
                    QVERIFY(sameStats(one.layers[li].kernel, other.layers[li].kernel));
                    QVERIFY(one.grids[li].steps == other.grids[li].steps);
                }
                QVERIFY(sameStats(one.total.weights, other.total.weights));
            }
        }
    }

    void cancellationStopsThePass() {
        const Model m = testModel();
        CompressionPlan plan = CompressionPlan::uniform(0.01f, 0.f);
        Progress stop{[](long long done, long long) { return done < 2; }};
        CompressOptions o;
        o.threads = 2;
        QVERIFY_THROWS_EXCEPTION(Cancelled, compressModel(m, plan, o, stop));
    }

    // With a profile, value-only rules take their counts from sorted values instead of
    // counting weight by weight: the results must not change by a single count or bit.
    void profileGivesTheSameResult() {
        const Model m = testModel();
        auto cases = settingsCases();
        LayerSettings s;
        s.prune.rho = 0.03f;
        cases.push_back(s);  // pruning only
        s = {};
        s.quant.alpha = 0.05f;
        cases.push_back(s);  // quantization only
        s.prune.rho = 0.2f;  // error range set by rho, several error bins per code
        cases.push_back(s);
        s = {};
        s.quant.bits = 5;
        s.quant.scheme = QuantScheme::Asymmetric;
        s.prune.rho = 0.01f;
        cases.push_back(s);  // one k-bit step per tensor
        s.prune.method = PruneMethod::TextbookThreshold;
        s.prune.rho = -0.1f;
        cases.push_back(s);
        s = {};
        s.quant.alpha = 0.0005f;  // fine step: many codes, the pass counts
        cases.push_back(s);
        const auto profile = profileWeights(m, StatsOptions{}, 2);
        int index = 0;
        for (const auto& settings : cases) {
            for (bool histograms : {true, false}) {
                CompressionPlan plan;
                plan.defaults = settings;
                plan.keepFirstFloat = true;
                CompressOptions o;
                o.threads = 2;
                o.stats.histograms = histograms;
                const auto plain = compressModel(m, plan, o);
                o.profile = profile;
                const auto profiled = compressModel(m, plan, o);
                for (std::size_t li = 0; li < m.layers.size(); ++li) {
                    QVERIFY2(sameStats(plain.layers[li].kernel, profiled.layers[li].kernel),
                             qPrintable(QString("case %1 layer %2").arg(index).arg(li)));
                    QCOMPARE(plain.grids[li].codeMin, profiled.grids[li].codeMin);
                    QCOMPARE(plain.grids[li].codeMax, profiled.grids[li].codeMax);
                }
                QVERIFY(sameStats(plain.total.weights, profiled.total.weights));
            }
            ++index;
        }
    }
};

QTEST_GUILESS_MAIN(CompressStatsTest)
#include "compress_stats_test.moc"
