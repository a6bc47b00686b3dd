// The bundled default models (resources/models) are the documented ones: they load, and the
// inference engine reproduces the test accuracies recorded in resources/models/README.md
// (the teacher's >= 0.91 is a project requirement) on the full test set.
#include <QtTest>

#include "core/infer/engine.h"
#include "core/infer/evaluate.h"
#include "core/io/model_loader.h"
#include "tests/support/test_paths.h"

using namespace cwb;

class DefaultModelsTest : public QObject {
    Q_OBJECT
private slots:
    void accuraciesAsDocumented_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<double>("accuracy");
        QTest::newRow("teacher") << "cnn_bn_teacher.h5" << 0.9137;
        QTest::newRow("mlp") << "mlp128.h5" << 0.8796;
    }
    void accuraciesAsDocumented() {
        QFETCH(QString, file);
        QFETCH(double, accuracy);
        const std::string path =
            std::string(CWB_FIXTURES_DIR) + "/../../resources/models/" + file.toStdString();
        const Model model = loadModel(path);
        const auto engine = makeCpuEngine(model, {2, false});
        const Dataset test = loadFashionMnist(cwb::test::datasetDir(), Split::Test);
        const EvalResult r = evaluate(*engine, test);
        QVERIFY2(std::fabs(r.accuracy - accuracy) <= 0.0005,
                 qPrintable(QString::number(r.accuracy)));
        if (file.contains("teacher")) QVERIFY(r.accuracy >= 0.91);
    }
};

QTEST_APPLESS_MAIN(DefaultModelsTest)
#include "default_models_test.moc"
