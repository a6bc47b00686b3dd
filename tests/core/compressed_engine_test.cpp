// The compressed-model engine on the real CNN fixtures: the int8 path must stay within
// 0.5 percentage points of the fake-quantized float32 path on the full test set; the sparse
// path must equal the float path up to float rounding; the kernel report must say what ran.
#include "core/infer/compressed_engine.h"

#include <QtTest>
#include <cmath>

#include "core/compress/compress_model.h"
#include "core/infer/evaluate.h"
#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"
#include "tests/support/test_paths.h"

using namespace cwb;

class CompressedEngineTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { m_data = loadFashionMnist(test::datasetDir(), Split::Test); }

    void int8WithinHalfAPointOfFakeQuant_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<float>("alpha");
        QTest::addColumn<int>("bits");
        QTest::newRow("evanchien alpha 0.01") << "k2_cnn_bn_evanchien.h5" << 0.01f << 0;
        QTest::newRow("evanchien 8-bit per channel") << "k2_cnn_bn_evanchien.h5" << 0.f << 8;
        QTest::newRow("umer alpha 0.02")
            << "k3_cnn_umer.keras" << 0.02f << 0;  // at 0.01 a unit spans 278 codes
        QTest::newRow("umer 4-bit per channel") << "k3_cnn_umer.keras" << 0.f << 4;
    }
    void int8WithinHalfAPointOfFakeQuant() {
        QFETCH(QString, file);
        QFETCH(float, alpha);
        QFETCH(int, bits);
        const Model model = loadModel(test::fixture(file.toStdString()));
        CompressionPlan plan = CompressionPlan::uniform(alpha, 0.f);
        if (bits) {
            plan.defaults.quant.bits = bits;
            plan.defaults.quant.granularity = Granularity::Channel;
        }
        CompressOptions co;
        co.stats.histograms = false;
        const auto compressed = compressModel(model, plan, co);
        auto fake = makeCpuEngine(compressed.model);
        CompressedEngineOptions options;
        options.kernel = KernelChoice::Int8;
        options.grids = &compressed.grids;
        options.measure = false;
        KernelReport report;
        auto int8 = makeCompressedEngine(compressed.model, options, &report);
        for (const auto& layer : report.layers) {
            QVERIFY2(layer.path.rfind("int8", 0) == 0,
                     qPrintable(QString::fromStdString(report.text())));
            QVERIFY2(layer.reason.find("re-quantized") == std::string::npos,
                     layer.reason.c_str());  // exact codes
        }
        const double a = evaluate(*fake, m_data).accuracy, b = evaluate(*int8, m_data).accuracy;
        qInfo("fake-quant %.4f, int8 %.4f", a, b);
        QVERIFY2(std::fabs(a - b) <= 0.005,
                 qPrintable(QString("fake-quant %1, int8 %2").arg(a).arg(b)));
    }

    void sparseEqualsFloatUpToRounding() {
        const Model model = loadModel(test::fixture("k2_mlp_dropout_percy.h5"));
        CompressOptions co;
        co.stats.histograms = false;
        const auto compressed = compressModel(model, CompressionPlan::uniform(0.f, 0.05f), co);
        auto dense = makeCpuEngine(compressed.model);
        CompressedEngineOptions options;
        options.kernel = KernelChoice::Sparse;
        options.measure = false;
        KernelReport report;
        auto sparse = makeCompressedEngine(compressed.model, options, &report);
        for (const auto& layer : report.layers) QCOMPARE(layer.path, std::string("sparse (csr)"));
        EvalOptions eo;
        eo.limit = 3000;
        const auto a = evaluate(*dense, m_data, eo), b = evaluate(*sparse, m_data, eo);
        int differ = 0;
        for (int i = 0; i < a.samples; ++i) differ += a.predictions[i] != b.predictions[i];
        QVERIFY2(differ <= 2, qPrintable(QString("%1 predictions differ").arg(differ)));
    }

    void autoReportsMeasuredChoices() {
        const Model model = loadModel(test::fixture("k3legacy_mlp_ntu113.h5"));
        CompressionPlan plan;
        plan.defaults.prune.method = PruneMethod::TargetSparsity;
        plan.defaults.prune.sparsity = 0.5;
        CompressOptions co;
        co.stats.histograms = false;
        const auto compressed = compressModel(model, plan, co);
        CompressedEngineOptions options;
        options.grids = &compressed.grids;
        KernelReport report;
        auto engine = makeCompressedEngine(compressed.model, options, &report);
        QCOMPARE(report.engine, engine->name());
        QCOMPARE(report.layers.size(), std::size_t(3));
        for (const auto& layer : report.layers) {
            QVERIFY(std::fabs(layer.sparsity - 0.5) < 0.01);
            QVERIFY(layer.floatMs > 0 && layer.sparseMs > 0);  // both measured
            QVERIFY(layer.int8Ms < 0);                         // not quantized: no int8 candidate
            if (layer.path == "float32")
                QVERIFY(layer.reason.find("no speed-up") != std::string::npos);
            else
                QCOMPARE(layer.path, std::string("sparse (csr)"));
        }
        const auto text = report.text();
        QVERIFY(text.find("dense_") != std::string::npos ||
                text.find("Dense") != std::string::npos);
        EvalOptions eo;
        eo.limit = 500;
        QVERIFY(evaluate(*engine, m_data, eo).accuracy > 0.7);
    }

private:
    Dataset m_data;
};

QTEST_APPLESS_MAIN(CompressedEngineTest)
#include "compressed_engine_test.moc"
