// The block quantization traits table: every row's fast kernel equals its scalar reference
// bit for bit, and the fused pass's group quantization equals the row's kernel applied to
// each block of the kernel matrix (a column's run of groupSize input rows).
#include "core/compress/quant_types.h"

#include <QtTest>
#include <cstring>
#include <random>

#include "core/compress/compress_model.h"

using namespace cwb;

class QuantTypesTest : public QObject {
    Q_OBJECT
private slots:
    void fastEqualsReference() {
        std::mt19937 rng(5);
        std::normal_distribution<float> dist(0.f, 0.3f);
        QCOMPARE(quantTypes().size(), std::size_t(42));
        for (const auto& type : quantTypes()) {
            for (int trial = 0; trial < 20; ++trial) {
                std::vector<float> in(static_cast<std::size_t>(type.blockSize));
                for (auto& v : in)
                    v = trial == 0 ? 0.f
                                   : dist(rng) + (trial % 3 == 1 ? 0.5f : 0.f);  // all-zero, skewed
                if (trial == 2) in[3] = 2.5f * in[0];                            // an outlier
                std::vector<float> a(in.size()), b(in.size());
                std::vector<std::int32_t> ca(in.size()), cb(in.size());
                const float sa = type.quantizeRef(in.data(), a.data(), ca.data(), type.blockSize);
                const float sb = type.quantize(in.data(), b.data(), cb.data(), type.blockSize);
                QCOMPARE(sa, sb);
                QVERIFY2(std::memcmp(a.data(), b.data(), a.size() * 4) == 0, type.name);
                QVERIFY2(ca == cb, type.name);
                const int top = type.symmetric ? (1 << (type.bits - 1)) - 1 : (1 << type.bits) - 1;
                for (std::size_t i = 0; i < in.size(); ++i) {
                    QVERIFY(std::abs(ca[i]) <= top);
                    QCOMPARE(a[i], static_cast<float>(ca[i]) * sa);  // value = code * step
                }
            }
        }
        QVERIFY(findQuantType("q4s_g32") && findQuantType("q8a_g128") && !findQuantType("q9s_g32"));
        QCOMPARE(findQuantType("q4s_g32")->encodedBytes(64), 64 * 4 / 8 + 2 * 4LL);
    }

    void fusedPassEqualsBlockKernels() {
        const int in = 200, out = 7;  // 200 rows: groups of 64 leave a short last block
        std::mt19937 rng(6);
        std::normal_distribution<float> dist(0.f, 0.2f);
        std::vector<float> w(static_cast<std::size_t>(in) * out);
        for (auto& v : w) v = dist(rng);
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
        for (int bits : {3, 8})
            for (bool sym : {true, false}) {
                CompressionPlan plan;
                plan.defaults.quant.bits = bits;
                plan.defaults.quant.granularity = Granularity::Group;
                plan.defaults.quant.groupSize = 64;
                plan.defaults.quant.scheme = sym ? QuantScheme::Symmetric : QuantScheme::Asymmetric;
                const auto r = compressModel(m, plan);
                const auto got = r.model.layers[0].kernel.floats();
                const QuantTypeTraits* type = quantTypeFor(plan.defaults.quant);
                QVERIFY(type);
                QVERIFY(r.layers[0].kernel.size.description.find(type->name) != std::string::npos);
                for (int c = 0; c < out; ++c)
                    for (int r0 = 0; r0 < in; r0 += 64) {
                        const int n = std::min(64, in - r0);
                        std::vector<float> block(n), q(n);
                        std::vector<std::int32_t> codes(n);
                        for (int i = 0; i < n; ++i)
                            block[i] = w[static_cast<std::size_t>(r0 + i) * out + c];
                        type->quantizeRef(block.data(), q.data(), codes.data(), n);
                        for (int i = 0; i < n; ++i)
                            QCOMPARE(got[static_cast<std::size_t>(r0 + i) * out + c], q[i]);
                    }
            }
    }
};

QTEST_APPLESS_MAIN(QuantTypesTest)
#include "quant_types_test.moc"
