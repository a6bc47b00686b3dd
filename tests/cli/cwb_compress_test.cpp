// `cwb compress`, `cwb sweep` and the compression options of `cwb eval` as a user runs them:
// exit codes, JSON keys, CSV rows, PNG files, one-line errors, and the input file untouched.
#include <QCryptographicHash>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include "tests/cli/cli_support.h"

using cwb::test::CliRun;
using cwb::test::datasetPath;
using cwb::test::expectOneLineError;
using cwb::test::fixturePath;
using cwb::test::runCwb;
using cwb::test::tempPath;

namespace {

QByteArray digest(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

QJsonObject parseObject(const QByteArray& bytes) {
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &error);
    return error.error == QJsonParseError::NoError && doc.isObject() ? doc.object() : QJsonObject{};
}

}  // namespace

class CwbCompressTest : public QObject {
    Q_OBJECT
private slots:
    void compressWritesModelAndReport() {
        const QString input = fixturePath("k2_cnn_bn_evanchien.h5");
        const QByteArray before = digest(input);
        const QString out = tempPath("cnn_a05_r05.h5"), report = tempPath("cnn_report.json");
        const CliRun r = runCwb(
            {"compress", input, "-o", out, "--alpha", "0.05", "--rho", "0.05", "--report", report});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(r.out.contains("wrote"));
        QCOMPARE(digest(input), before);
        QFile f(report);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject o = parseObject(f.readAll());
        const QJsonObject c = o["compression"].toObject();
        const QJsonObject total = c["total"].toObject();
        for (const char* key :
             {"sparsity", "mse", "sqnr_db", "max_abs_error", "levels", "effective_bits",
              "size_bytes", "ratio", "model_bytes", "model_ratio", "histograms"})
            QVERIFY2(total.contains(key), key);
        const QJsonArray layers = c["layers"].toArray();
        QCOMPARE(layers.size(), 5);
        const QJsonObject k = layers[0].toObject()["kernel"].toObject();
        QVERIFY(k["encoding"].toString().contains("bit codes"));
        const QJsonObject h = k["histograms"].toObject();
        // Shared edges: original and compressed overlay.
        QCOMPARE(h["original"].toObject()["lo"].toDouble(),
                 h["compressed"].toObject()["lo"].toDouble());
        QCOMPARE(h["original"].toObject()["counts"].toArray().size(), 128);
        // The written model evaluates, with the EXPECTED.md figure's neighbourhood on 1000 images.
        const CliRun e =
            runCwb({"eval", out, "--limit", "1000", "--json", "--data", datasetPath()});
        QVERIFY2(e.exitCode == 0, e.err.constData());
        QVERIFY(parseObject(e.out)["accuracy"].toDouble() > 0.8);
    }

    void compressNeverOverwritesTheInput() {
        const QString copy = tempPath("victim.h5");
        QFile::remove(copy);
        QVERIFY(QFile::copy(fixturePath("k3legacy_mlp_ntu113.h5"), copy));
        const QByteArray before = digest(copy);
        expectOneLineError(runCwb({"compress", copy, "-o", copy, "--alpha", "0.1"}), "");
        QCOMPARE(digest(copy), before);
        expectOneLineError(runCwb({"compress", copy, "-o", tempPath("x.h5"), "--report", copy}),
                           "");
        QCOMPARE(digest(copy), before);
    }

    void badOptionsAreOneLineErrors() {
        const QString m = fixturePath("k3legacy_mlp_ntu113.h5");
        expectOneLineError(runCwb({"compress", m, "-o", tempPath("b.h5"), "--bits", "9"}),
                           "--bits");
        expectOneLineError(runCwb({"compress", m, "-o", tempPath("b.h5"), "--granularity",
                                   "group48", "--bits", "4"}),
                           "granularity");
        expectOneLineError(
            runCwb({"compress", m, "-o", tempPath("b.h5"), "--alpha", "0.1", "--bits", "4"}),
            "not both");
        expectOneLineError(
            runCwb({"compress", m, "-o", tempPath("b.h5"), "--only", "nope", "--alpha", "0.1"}),
            "nope");
        expectOneLineError(runCwb({"compress", m, "--alpha", "0.1"}), "-o");
        expectOneLineError(runCwb({"compress", fixturePath("k3_mlp800_voyager.weights.h5"), "-o",
                                   tempPath("w.h5")}),
                           "weights only");
        expectOneLineError(runCwb({"eval", m, "--kernel", "gpu"}), "--kernel");
        expectOneLineError(
            runCwb({"sweep", m, "--param", "beta", "--from", "0", "--to", "1", "--steps", "3"}),
            "--param");
        expectOneLineError(runCwb({"sweep", m, "--param", "rho", "--from", "0", "--to", "1"}),
                           "--steps");
    }

    void evalJsonReportsCompressionAndKernels() {
        const CliRun r = runCwb({"eval", fixturePath("k2_cnn_bn_evanchien.h5"), "--alpha", "0.05",
                                 "--rho", "0.05", "--kernel", "int8", "--limit", "500", "--repeats",
                                 "2", "--json", "--data", datasetPath()});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject o = parseObject(r.out);
        for (const char* key : {"accuracy", "sparsity", "size_bytes", "latency_ms", "kernel",
                                "kernels", "compression"})
            QVERIFY2(o.contains(key), key);
        QVERIFY(o["sparsity"].toDouble() > 0.3 && o["sparsity"].toDouble() < 0.8);
        QVERIFY(o["size_bytes"].toDouble() < o["float32_bytes"].toDouble() / 5);
        QVERIFY(o["latency_ms"].toDouble() > 0);
        QCOMPARE(o["repeats"].toInt(), 2);
        const QJsonArray layers = o["kernels"].toObject()["layers"].toArray();
        QCOMPARE(layers.size(), 5);
        for (const auto& l : layers) QVERIFY(l.toObject()["path"].toString().startsWith("int8"));
        QVERIFY(o["accuracy"].toDouble() > 0.8);

        const CliRun t = runCwb({"eval", fixturePath("k3legacy_mlp_ntu113.h5"), "--sparsity", "0.9",
                                 "--limit", "300", "--data", datasetPath()});
        QVERIFY2(t.exitCode == 0, t.err.constData());
        QVERIFY(t.out.contains("sparsity:   0.9"));
        QVERIFY(t.out.contains("per 1000 images"));  // the measured kernel choice
    }

    void sweepWritesCsvAndPng() {
        const QString csv = tempPath("sweep.csv"), png = tempPath("sweep.png");
        QFile::remove(csv);
        QFile::remove(png);
        QStringList args{"sweep",   fixturePath("k2_mlp_dropout_percy.h5"),
                         "--param", "alpha",
                         "--from",  "0",
                         "--to",    "0.2",
                         "--steps", "4",
                         "--csv",   csv,
                         "--limit", "300",
                         "--data",  datasetPath()};
#ifdef CWB_PNG_PLOTS
        args << "--png" << png;  // a build without Qt refuses --png (cwb_plot_test checks that)
#endif
        const CliRun r = runCwb(args);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(r.err.isEmpty(),
                 r.err.constData());  // no progress bar when stderr is not a terminal
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(f.readAll()).trimmed().split('\n');
        QCOMPARE(lines.size(), 5);
        QVERIFY(lines[0].startsWith("alpha,accuracy,sparsity,size_bytes"));
        QVERIFY(lines[1].startsWith("0,"));
        QVERIFY(lines[4].startsWith("0.2,"));
        const QStringList last = lines[4].split(',');
        QVERIFY(last[2].toDouble() > 0.5);  // a step of 0.2 zeroes most weights
#ifdef CWB_PNG_PLOTS
        QFile p(png);
        QVERIFY(p.open(QIODevice::ReadOnly));
        QVERIFY(p.read(8) == QByteArray("\x89PNG\r\n\x1a\n", 8));
#endif
    }
};

QTEST_APPLESS_MAIN(CwbCompressTest)
#include "cwb_compress_test.moc"
