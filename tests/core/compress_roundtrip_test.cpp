// Round trip of compressed models through the Keras .h5 writer: load(save(compress(M))) has
// bit-identical compressed weights and makes the same predictions.
#include <QtTest>
#include <cstring>

#include "core/compress/compress_model.h"
#include "core/infer/engine.h"
#include "core/infer/evaluate.h"
#include "core/io/idx_dataset.h"
#include "core/io/keras_h5_writer.h"
#include "core/io/model_loader.h"
#include "tests/support/test_paths.h"

using namespace cwb;

class CompressRoundTripTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { m_data = loadFashionMnist(test::datasetDir(), Split::Test, 2000); }

    void roundTripIsExact_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("bits");
        QTest::newRow("cnn bn, alpha rho") << "k2_cnn_bn_evanchien.h5" << 0;
        QTest::newRow("keras 3 cnn, 4-bit asym per channel") << "k3_cnn_umer.keras" << 4;
        QTest::newRow("mlp, alpha rho") << "k2_mlp_dropout_percy.h5" << 0;
    }
    void roundTripIsExact() {
        QFETCH(QString, file);
        QFETCH(int, bits);
        const Model model = loadModel(test::fixture(file.toStdString()));
        CompressionPlan plan = CompressionPlan::uniform(0.05f, 0.05f);
        if (bits) {
            plan.defaults.quant.alpha = 0.f;
            plan.defaults.quant.bits = bits;
            plan.defaults.quant.scheme = QuantScheme::Asymmetric;
            plan.defaults.quant.granularity = Granularity::Channel;
        }
        const auto compressed = compressModel(model, plan);
        const std::string out = test::tempDir() + "/" + file.toStdString() + ".compressed.h5";
        saveKerasH5(compressed.model, out);
        const Model loaded = loadModel(out);
        QCOMPARE(loaded.layers.size(), compressed.model.layers.size());
        int kernels = 0;
        for (std::size_t i = 0; i < loaded.layers.size(); ++i) {
            const Tensor& a = compressed.model.layers[i].kernel;
            const Tensor& b = loaded.layers[i].kernel;
            QCOMPARE(a.empty(), b.empty());
            if (a.empty()) continue;
            ++kernels;
            QCOMPARE(a.shape(), b.shape());
            const auto fa = a.toFloatVector(), fb = b.toFloatVector();
            QVERIFY2(std::memcmp(fa.data(), fb.data(), fa.size() * 4) == 0,
                     loaded.layers[i].name.c_str());
        }
        QVERIFY(kernels >= 3);
        auto e1 = makeCpuEngine(compressed.model);
        auto e2 = makeCpuEngine(loaded);
        const auto r1 = evaluate(*e1, m_data), r2 = evaluate(*e2, m_data);
        QCOMPARE(r2.accuracy, r1.accuracy);
        QVERIFY(r1.predictions == r2.predictions);
        // Compressing the loaded copy again changes nothing: quantize(quantize(W)) == quantize(W).
        if (!bits) {
            const auto again = compressModel(loaded, plan);
            for (std::size_t i = 0; i < loaded.layers.size(); ++i)
                if (!loaded.layers[i].kernel.empty())
                    QVERIFY(again.model.layers[i].kernel.toFloatVector() ==
                            loaded.layers[i].kernel.toFloatVector());
        }
    }

private:
    Dataset m_data;
};

QTEST_APPLESS_MAIN(CompressRoundTripTest)
#include "compress_roundtrip_test.moc"
