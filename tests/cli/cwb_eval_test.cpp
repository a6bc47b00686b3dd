// `cwb eval` as a user runs it: JSON output with its keys, and one-line errors for a missing
// data set, a weights-only file and bad options.
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include "tests/cli/cli_support.h"

using cwb::test::CliRun;
using cwb::test::expectOneLineError;
using cwb::test::fixturePath;
using cwb::test::runCwb;

class CwbEvalTest : public QObject {
    Q_OBJECT
private slots:
    void jsonHasTheKeys() {
        const CliRun r =
            runCwb({"eval", fixturePath("k2_cnn_bn_evanchien.h5"), "--json", "--limit", "500",
                    "--threads", "2", "--data", QString::fromStdString(cwb::test::datasetDir())});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(r.out, &error);
        QVERIFY2(error.error == QJsonParseError::NoError && doc.isObject(), r.out.constData());
        const QJsonObject o = doc.object();
        for (const char* key :
             {"accuracy", "samples", "seconds", "images_per_second", "gflops", "engine", "threads"})
            QVERIFY2(o.contains(key), key);
        QCOMPARE(o["samples"].toInt(), 500);
        QCOMPARE(o["threads"].toInt(), 2);
        // A real classifier on real data: far above chance (0.1), a fraction not a percentage.
        QVERIFY(o["accuracy"].toDouble() > 0.8 && o["accuracy"].toDouble() <= 1.0);
        QVERIFY(o["seconds"].toDouble() > 0);
        QVERIFY(o["images_per_second"].toDouble() > 0);
        QVERIFY(o["gflops"].toDouble() > 0);
        QVERIFY(o["engine"].toString().contains("cpu"));
    }

    void textOutput() {
        const CliRun r = runCwb(
            {"eval", fixturePath("k3legacy_mlp_ntu113.h5"), "--limit", "100", "--batch", "7"});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(r.out.contains("accuracy:"));
        QVERIFY(r.out.contains("images/s:"));
        QVERIFY(r.out.contains("100 samples"));
    }

    // --tf32 is a GPU's mode: on the CPU the run says so and computes in float32 as always
    // (the same accuracy as without it: 0.8721 on the full set, EXPECTED.md).
    void tf32OnTheCpuSaysItDoesNotApply() {
        const QStringList base = {"eval",      fixturePath("k3legacy_mlp_ntu113.h5"),
                                  "--limit",   "300",
                                  "--repeats", "1",
                                  "--device",  "cpu",
                                  "--json"};
        const CliRun plain = runCwb(base);
        const CliRun tf32 = runCwb(base + QStringList{"--tf32"});
        QVERIFY2(tf32.exitCode == 0, tf32.err.constData());
        QCOMPARE(tf32.err.trimmed(),
                 QByteArray("note: --tf32 applies on a GPU; the CPU multiplies in float32"));
        const double a = QJsonDocument::fromJson(plain.out).object()["accuracy"].toDouble();
        const double b = QJsonDocument::fromJson(tf32.out).object()["accuracy"].toDouble();
        QVERIFY(a > 0.8);
        QCOMPARE(b, a);
    }

    // A device this build cannot run falls back to the CPU with core's one-line note. The
    // reason depends on the build and machine (no CUDA backend, no driver, fewer GPUs).
    void unavailableDeviceFallsBackToTheCpu() {
        const CliRun r = runCwb({"eval", fixturePath("k3legacy_mlp_ntu113.h5"), "--limit", "100",
                                 "--repeats", "1", "--device", "cuda:99"});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QByteArray note = r.err.trimmed();
        QVERIFY2(note.startsWith("cuda:99: not available (") &&
                     note.endsWith("); running on the CPU") && !note.contains('\n'),
                 note.constData());
        QVERIFY(r.out.contains("engine:     cpu"));
    }

    void missingDataSetNamesThePackage() {
        expectOneLineError(
            runCwb({"eval", fixturePath("k2_mlp_dropout_percy.h5"), "--data", "/nonexistent"}),
            "dataset-fashion-mnist");
    }

    void weightsOnlyFileIsRefused() {
        expectOneLineError(runCwb({"eval", fixturePath("k3_mlp800_voyager.weights.h5")}),
                           "cannot be evaluated");
        expectOneLineError(runCwb({"eval", fixturePath("st_mnist_cnn_bn_torch.safetensors")}),
                           "cannot be evaluated");
    }

    void badArgumentsAreRefused() {
        expectOneLineError(runCwb({"eval", fixturePath("k2_mlp_dropout_percy.h5"), "--batch", "0"}),
                           "--batch");
        expectOneLineError(
            runCwb({"eval", fixturePath("k2_mlp_dropout_percy.h5"), "--limit", "-3"}), "--limit");
        expectOneLineError(
            runCwb({"eval", fixturePath("k2_mlp_dropout_percy.h5"), "--thread", "2"}), "--thread");
        expectOneLineError(runCwb({"eval"}), "MODEL");
        expectOneLineError(runCwb({"eval", "/nonexistent/model.h5"}), "/nonexistent/model.h5");
    }
};

QTEST_GUILESS_MAIN(CwbEvalTest)
#include "cwb_eval_test.moc"
