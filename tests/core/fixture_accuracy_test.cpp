// Accuracy of the real fixture models on all 10 000 Fashion-MNIST test images: it must equal
// the uncompressed figures of EXPECTED.md (computed independently with PyTorch) within 0.0005.
#include <QtTest>
#include <cmath>

#include "core/infer/engine.h"
#include "core/infer/evaluate.h"
#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"
#include "tests/support/test_paths.h"

using namespace cwb;

class FixtureAccuracyTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        m_data = loadFashionMnist(test::datasetDir(), Split::Test);
        QCOMPARE(m_data.size(), 10000);
    }

    void matchesExpectedAccuracy_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<double>("expected");
        QTest::newRow("k2_cnn_bn_evanchien") << "k2_cnn_bn_evanchien.h5" << 0.9108;
        QTest::newRow("k2_mlp_dropout_percy") << "k2_mlp_dropout_percy.h5" << 0.8867;
        QTest::newRow("k3legacy_mlp_ntu113") << "k3legacy_mlp_ntu113.h5" << 0.8721;
        QTest::newRow("k3_cnn_umer") << "k3_cnn_umer.keras" << 0.8876;
    }
    void matchesExpectedAccuracy() {
        QFETCH(QString, file);
        QFETCH(double, expected);
        const Model model = loadModel(test::fixture(file.toStdString()));
        auto engine = makeCpuEngine(model);
        const EvalResult result = evaluate(*engine, m_data);
        QCOMPARE(result.samples, 10000);
        QCOMPARE(int(result.predictions.size()), 10000);
        QVERIFY2(std::fabs(result.accuracy - expected) <= 0.0005 + 1e-12,
                 qPrintable(QString("%1: accuracy %2, expected %3")
                                .arg(file)
                                .arg(result.accuracy)
                                .arg(expected)));
    }

private:
    Dataset m_data;
};

QTEST_APPLESS_MAIN(FixtureAccuracyTest)
#include "fixture_accuracy_test.moc"
