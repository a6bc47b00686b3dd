// `cwb train`, `cwb distill` and `cwb sweep --param temperature` as a user runs them, on small
// runs (--limit training images, --eval-limit test images): exit codes, the per-epoch report,
// the saved model (loaded back and evaluated), the CSV, and one-line errors.
#include <QFile>
#include <QtTest>

#include "core/infer/engine.h"
#include "core/infer/evaluate.h"
#include "core/io/model_loader.h"
#include "tests/cli/cli_support.h"

using cwb::test::CliRun;
using cwb::test::expectOneLineError;
using cwb::test::fixturePath;
using cwb::test::runCwb;
using cwb::test::tempPath;

namespace {

QStringList small() {
    return {"--limit",   "2000", "--eval-limit", "1000",
            "--threads", "2",    "--data",       QString::fromStdString(cwb::test::datasetDir())};
}

// The accuracy on the first 1000 test images, by the inference engine (not the trainer).
double engineAccuracy(const QString& path) {
    const cwb::Model model = cwb::loadModel(path.toStdString());
    const auto engine = cwb::makeCpuEngine(model);
    const cwb::Dataset test =
        cwb::loadFashionMnist(cwb::test::datasetDir(), cwb::Split::Test, 1000);
    return cwb::evaluate(*engine, test).accuracy;
}

double reportedAccuracy(const QByteArray& out) {
    const QRegularExpression re("wrote .*: test accuracy ([0-9.]+)");
    const auto m = re.match(QString::fromUtf8(out));
    return m.hasMatch() ? m.captured(1).toDouble() : -1;
}

}  // namespace

class CwbTrainTest : public QObject {
    Q_OBJECT
private slots:
    void trainsSavesAndReports() {
        const QString out = tempPath("mlp.h5"), csv = tempPath("mlp.csv");
        const CliRun r = runCwb(
            QStringList{"train", "--arch", "mlp:32", "--epochs", "2", "-o", out, "--csv", csv} +
            small());
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(r.out.contains("epoch 1/2") && r.out.contains("epoch 2/2") &&
                r.out.contains("test loss"));
        // The saved file loads and the inference engine agrees with the reported accuracy.
        const double reported = reportedAccuracy(r.out);
        QVERIFY2(reported > 0.7, r.out.constData());
        QVERIFY(std::fabs(engineAccuracy(out) - reported) <= 0.002);
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 3);
        QVERIFY(lines[0].startsWith("epoch,train_loss,train_accuracy,test_loss,test_accuracy"));
        QVERIFY(lines[2].startsWith("2,"));
    }

    void cnnWithBatchNormTrains() {
        const QString out = tempPath("cnn.h5");
        // Three short epochs: BatchNormalization's moving averages (momentum 0.99) need a
        // couple of hundred steps before inference-mode accuracy means much.
        const CliRun r = runCwb(QStringList{"train", "--arch", "cnn-bn:8/16", "--epochs", "3",
                                            "--dropout", "0.2", "-o", out} +
                                small());
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const double reported = reportedAccuracy(r.out);
        QVERIFY2(reported > 0.6, r.out.constData());
        // SGD with momentum runs too.
        const CliRun sgd =
            runCwb(QStringList{"train", "--arch", "mlp:16", "--epochs", "1", "--optimizer", "sgd",
                               "--lr", "0.05", "-o", tempPath("sgd.h5")} +
                   small());
        QVERIFY2(sgd.exitCode == 0, sgd.err.constData());
        QVERIFY2(reportedAccuracy(sgd.out) > 0.6, sgd.out.constData());
        QVERIFY(std::fabs(engineAccuracy(out) - reported) <= 0.002);
    }

    void badArchitectureIsOneLine() {
        const CliRun r = runCwb(
            QStringList{"train", "--arch", "cnn:32,x/128", "-o", tempPath("x.h5")} + small());
        expectOneLineError(r, "invalid architecture 'cnn:32,x/128'");
        QVERIFY(!QFile::exists(tempPath("x.h5")));
        expectOneLineError(runCwb({"train", "--arch", "resnet:50", "-o", tempPath("x.h5")}),
                           "unknown kind 'resnet'");
        expectOneLineError(runCwb({"train", "--arch", "mlp:64"}), "-o OUT.h5 is required");
        expectOneLineError(runCwb({"train", "-o", tempPath("x.h5")}), "--arch is required");
        expectOneLineError(
            runCwb({"train", "--arch", "mlp:8", "-o", tempPath("x.h5"), "--optimizer", "rmsprop"}),
            "--optimizer must be 'adam' or 'sgd'");
        expectOneLineError(
            runCwb({"train", "--arch", "mlp:8", "-o", tempPath("x.h5"), "--epochs", "0"}),
            "--epochs");
        expectOneLineError(
            runCwb({"train", "--arch", "mlp:8", "-o", tempPath("x.h5"), "--bogus", "1"}),
            "--bogus");
    }

    void distillsFromAFixture() {
        const QString out = tempPath("student.h5"), csv = tempPath("student.csv");
        const CliRun r =
            runCwb(QStringList{"distill", fixturePath("k2_cnn_bn_evanchien.h5"), "--student",
                               "mlp:32", "--temperature", "2", "--kd-weight", "0.5", "--epochs",
                               "2", "-o", out, "--csv", csv, "--baseline"} +
                   small());
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(r.out.contains("teacher ") &&
                     r.out.contains("cached the teacher's logits on 2000 training images"),
                 r.out.constData());
        QVERIFY(r.out.contains("epoch 2/2") && r.out.contains("baseline epoch 2/2") &&
                r.out.contains("vs baseline"));
        // 2000 images, two epochs: far above chance (the full-data check is in tests/core).
        const double reported = reportedAccuracy(r.out);
        QVERIFY2(reported > 0.6, r.out.constData());
        QVERIFY(std::fabs(engineAccuracy(out) - reported) <= 0.002);
        QVERIFY(QFile::exists(csv));
    }

    void distillRefusesToOverwriteTheTeacher() {
        const QString teacher = tempPath("teacher_copy.h5");
        QFile::remove(teacher);
        QVERIFY(QFile::copy(fixturePath("k2_mlp_dropout_percy.h5"), teacher));
        const QByteArray before = [&] {
            QFile f(teacher);
            f.open(QIODevice::ReadOnly);
            return f.readAll();
        }();
        const CliRun r =
            runCwb(QStringList{"distill", teacher, "--temperature", "2", "-o", teacher} + small());
        expectOneLineError(r, "");
        QFile f(teacher);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), before);
        expectOneLineError(runCwb({"distill", teacher, "-o", tempPath("s.h5")}),
                           "--temperature is required");
        expectOneLineError(
            runCwb(QStringList{"distill", fixturePath("k3_mlp800_voyager.weights.h5"),
                               "--temperature", "2", "-o", tempPath("s.h5")} +
                   small()),
            "k3_mlp800_voyager.weights.h5");
    }

    void temperatureSweep() {
        const QString csv = tempPath("sweep.csv");
        const CliRun r =
            runCwb(QStringList{"sweep", fixturePath("k2_mlp_dropout_percy.h5"), "--param",
                               "temperature", "--from", "1", "--to", "5", "--steps", "3",
                               "--epochs", "1", "--student", "mlp:16", "--csv", csv} +
                   small());
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(r.out.contains("baseline (kd-weight 0)"), r.out.constData());
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 4);
        QVERIFY(lines[1].startsWith("1,") && lines[2].startsWith("3,") &&
                lines[3].startsWith("5,"));
    }
};

QTEST_GUILESS_MAIN(CwbTrainTest)
#include "cwb_train_test.moc"
