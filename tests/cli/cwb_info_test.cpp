// `cwb info` as a user runs it: exit codes, the key lines of the text report and the JSON
// report, against figures worked out by hand from the fixtures (h5ls shapes, EXPECTED.md).
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include "tests/cli/cli_support.h"

using cwb::test::CliRun;
using cwb::test::expectOneLineError;
using cwb::test::fixturePath;
using cwb::test::runCwb;

namespace {

QJsonObject jsonInfo(const char* name) {
    const CliRun run = runCwb({"info", fixturePath(name), "--json"});
    if (run.exitCode != 0) return {};
    return QJsonDocument::fromJson(run.out).object();
}

// A line of stdout that contains all of `parts`, in order.
bool hasLine(const QString& text, const QStringList& parts) {
    for (const QString& line : text.split('\n')) {
        qsizetype at = 0;
        bool all = true;
        for (const QString& part : parts) {
            at = line.indexOf(part, at);
            if (at < 0) {
                all = false;
                break;
            }
            at += part.size();
        }
        if (all) return true;
    }
    return false;
}

}  // namespace

class CwbInfoTest : public QObject {
    Q_OBJECT
private slots:
    void kerasModelText() {
        const CliRun run = runCwb({"info", fixturePath("k2_cnn_bn_evanchien.h5")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.err.isEmpty(), run.err.constData());
        QVERIFY(run.out.contains("format:          Keras 2.1.6 full model (.h5)\n"));
        QVERIFY(run.out.contains("input shape:     (28, 28, 1)\n"));
        QVERIFY(run.out.contains("layers:          18\n"));
        QVERIFY(hasLine(run.out, {"conv2d_1", "Conv2D", "(26, 26, 32)", "320", "linear"}));
        QVERIFY(hasLine(run.out,
                        {"batch_normalization_2", "BatchNormalization", "(11, 11, 64)", "256"}));
        QVERIFY(hasLine(run.out, {"max_pooling2d_2", "MaxPooling2D", "(6, 6, 64)", " 0"}));
        QVERIFY(hasLine(run.out, {"dense_1", "Dense", "(300,)", "153900"}));
        QVERIFY(hasLine(run.out, {"activation_5", "Activation", "(10,)", "softmax"}));
        QVERIFY(run.out.contains("parameters:      250478\n"));   // summed from h5ls shapes
        QVERIFY(run.out.contains("FLOPs per image: 7522416\n"));  // 2 x multiply-adds, by hand
        QVERIFY(!run.out.contains("not evaluable"));
    }

    void kerasModelJson() {
        const QJsonObject info = jsonInfo("k3_cnn_umer.keras");
        QCOMPARE(info["format"].toString(), QString("Keras 3.8.0 model (.keras)"));
        QCOMPARE(info["evaluable"].toBool(), true);
        QCOMPARE(info["inputShape"].toArray(), (QJsonArray{28, 28, 1}));
        QCOMPARE(info["parameters"].toInteger(), 225034);
        // 2 * (26*26*32*9 + 11*11*64*288 + 1600*128 + 128*10)
        QCOMPARE(info["flopsPerImage"].toDouble(), 5262080.0);
        const QJsonArray layers = info["layers"].toArray();
        QCOMPARE(layers.size(), 8);
        const QJsonObject dense = layers[5].toObject();
        QCOMPARE(dense["name"].toString(), QString("dense"));
        QCOMPARE(dense["class"].toString(), QString("Dense"));
        QCOMPARE(dense["parameters"].toInteger(), 1600 * 128 + 128);
        QCOMPARE(dense["activation"].toString(), QString("relu"));
        QCOMPARE(dense["outputShape"].toArray(), QJsonArray{128});
        QVERIFY(layers[4].toObject()["activation"].isNull());  // Flatten has none
        QVERIFY(!info.contains("tensors"));
    }

    void weightsOnlyText() {
        const CliRun run = runCwb({"info", fixturePath("st_u8_data_fluent.safetensors")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY(run.out.contains("format:          safetensors (weights only)\n"));
        QVERIFY(run.out.contains("not evaluable: weights only: the file has no architecture\n"));
        QVERIFY(run.out.contains("tensors:         4\n"));
        QVERIFY(
            hasLine(run.out, {"Xtrain", "U8", "(6000, 196)", "1176000", " 0", " 1", "0.127568"}));
        QVERIFY(hasLine(run.out, {"Ytest", "U8", "(1000, 10)", "10000", " 0", " 1", "0.1"}));
        const CliRun keras = runCwb({"info", fixturePath("k3_mlp800_voyager.weights.h5")});
        QCOMPARE(keras.exitCode, 0);
        QVERIFY(keras.out.contains("not evaluable: weights only: the file has no architecture\n"));
        QVERIFY(hasLine(keras.out, {"layers/dense/vars/0", "F32", "(784, 800)", "627200"}));
        QVERIFY(keras.out.contains("parameters:      636010\n"));
    }

    void weightsOnlyJson() {
        const QJsonObject info = jsonInfo("st_mnist_cnn_bn_torch.safetensors");
        QCOMPARE(info["evaluable"].toBool(), false);
        QCOMPARE(info["notEvaluableReason"].toString(),
                 QString("weights only: the file has no architecture"));
        const QJsonArray tensors = info["tensors"].toArray();
        QCOMPARE(tensors.size(), 23);
        const QJsonObject counter = tensors[0].toObject();
        QCOMPARE(counter["name"].toString(), QString("bn1.num_batches_tracked"));
        QCOMPARE(counter["dtype"].toString(), QString("I64"));
        QCOMPARE(counter["shape"].toArray(), QJsonArray{});
        QCOMPARE(counter["elements"].toInteger(), 1);
        QCOMPARE(counter["min"].toDouble(), 3752.0);
        const QJsonObject fluent =
            jsonInfo("st_u8_data_fluent.safetensors")["tensors"].toArray()[0].toObject();
        QCOMPARE(fluent["max"].toDouble(), 1.0);
        QVERIFY(std::fabs(fluent["mean"].toDouble() - 150020.0 / 1176000.0) <
                1e-12);  // sum by Python
    }

    void failuresExitNonZeroWithOneLine_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exitCode");  // 1: the file, 2: the command line
        QTest::addColumn<QString>("expected");
        QTest::newRow("missing file") << QStringList{"info", "/nonexistent/model.h5"} << 1
                                      << "/nonexistent/model.h5: file not found";
        QTest::newRow("negative fixture")
            << QStringList{"info", fixturePath("k3_tfsmlayer_NEGATIVE.keras")} << 1
            << "layer 'tfsm_layer' (TFSMLayer) is not supported";
        QTest::newRow("no model") << QStringList{"info"} << 2 << "MODEL is required";
        QTest::newRow("unknown option")
            << QStringList{"info", fixturePath("k3_cnn_umer.keras"), "--verbose", "x"} << 2
            << "unknown option --verbose";
    }
    void failuresExitNonZeroWithOneLine() {
        QFETCH(QStringList, args);
        QFETCH(int, exitCode);
        QFETCH(QString, expected);
        const CliRun run = runCwb(args);
        QCOMPARE(run.exitCode, exitCode);
        QVERIFY2(run.out.isEmpty(), run.out.constData());
        QCOMPARE(run.err.count('\n'), 1);
        QVERIFY2(run.err.startsWith("cwb info: "), run.err.constData());
        QVERIFY2(QString::fromUtf8(run.err).contains(expected), run.err.constData());
    }
};

QTEST_GUILESS_MAIN(CwbInfoTest)
#include "cwb_info_test.moc"
