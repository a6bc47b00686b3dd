// Accuracy of the real fixture models after compression, on all 10 000 test images,
// against the compressed figures of EXPECTED.md (computed independently with PyTorch):
// within 0.0005. The uncompressed rows are checked by fixture_accuracy_test.
#include <QtTest>
#include <cmath>

#include "core/compress/compress_model.h"
#include "core/infer/engine.h"
#include "core/infer/evaluate.h"
#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"
#include "tests/support/test_paths.h"

using namespace cwb;

class CompressFixtureAccuracyTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        m_data = loadFashionMnist(test::datasetDir(), Split::Test);
        QCOMPARE(m_data.size(), 10000);
    }

    void matchesExpectedAccuracy_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<float>("alpha");
        QTest::addColumn<float>("rho");
        QTest::addColumn<double>("expected");
        const struct {
            const char* file;
            double figures[5];  // (0.01, 0), (0.05, 0), (0, 0.02), (0, 0.05), (0.05, 0.05)
        } table[] = {
            {"k2_cnn_bn_evanchien.h5", {0.9130, 0.8876, 0.9072, 0.9024, 0.8781}},
            {"k2_mlp_dropout_percy.h5", {0.8876, 0.8859, 0.8868, 0.8870, 0.8857}},
            {"k3legacy_mlp_ntu113.h5", {0.8718, 0.8742, 0.8717, 0.8664, 0.8605}},
            {"k3_cnn_umer.keras", {0.8861, 0.8864, 0.8870, 0.8882, 0.8824}},
        };
        const float settings[5][2] = {
            {0.01f, 0.f}, {0.05f, 0.f}, {0.f, 0.02f}, {0.f, 0.05f}, {0.05f, 0.05f}};
        for (const auto& row : table)
            for (int k = 0; k < 5; ++k)
                QTest::addRow("%s alpha %g rho %g", row.file, settings[k][0], settings[k][1])
                    << QString(row.file) << settings[k][0] << settings[k][1] << row.figures[k];
    }
    void matchesExpectedAccuracy() {
        QFETCH(QString, file);
        QFETCH(float, alpha);
        QFETCH(float, rho);
        QFETCH(double, expected);
        const Model model = loadModel(test::fixture(file.toStdString()));
        CompressOptions options;
        options.stats.histograms = false;
        const auto compressed = compressModel(model, CompressionPlan::uniform(alpha, rho), options);
        auto engine = makeCpuEngine(compressed.model);
        const EvalResult result = evaluate(*engine, m_data);
        QVERIFY2(
            std::fabs(result.accuracy - expected) <= 0.0005 + 1e-12,
            qPrintable(QString("accuracy %1, expected %2").arg(result.accuracy).arg(expected)));
    }

private:
    Dataset m_data;
};

QTEST_APPLESS_MAIN(CompressFixtureAccuracyTest)
#include "compress_fixture_accuracy_test.moc"
