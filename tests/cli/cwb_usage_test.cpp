// The command line itself, before any work: --help and -h of cwb and of every command,
// --version, and usage errors (an unknown option, a number out of range or not a number, a
// missing value, an unknown or missing command) as exit status 2 with one line on stderr.
#include <QtTest>

#include "tests/cli/cli_support.h"

using cwb::test::CliRun;
using cwb::test::expectUsageError;
using cwb::test::fixturePath;
using cwb::test::runCwb;

namespace {

const QStringList kCommands{"compress", "distill", "eval", "info", "sweep", "train"};

}  // namespace

class CwbUsageTest : public QObject {
    Q_OBJECT
private slots:
    void topLevelHelp_data() {
        QTest::addColumn<QString>("flag");
        QTest::newRow("--help") << "--help";
        QTest::newRow("-h") << "-h";
    }
    void topLevelHelp() {
        QFETCH(QString, flag);
        const CliRun run = runCwb({flag});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.err.isEmpty(), run.err.constData());
        const QString out = QString::fromUtf8(run.out);
        QVERIFY2(out.contains("Usage: cwb"), run.out.constData());
        QVERIFY(out.contains("--version"));
        for (const QString& command : kCommands)
            QVERIFY2(out.contains("\n  " + command + " "), qPrintable(command));
    }

    void commandHelp_data() {
        QTest::addColumn<QString>("command");
        QTest::addColumn<QString>("flag");
        QTest::addColumn<QString>("option");  // one option the help must describe
        const QStringList options{"--report", "--temperature", "--kernel",
                                  "--json",   "--png",         "--arch"};
        for (int i = 0; i < kCommands.size(); ++i)
            for (const char* flag : {"--help", "-h"})
                QTest::addRow("%s %s", qPrintable(kCommands[i]), flag)
                    << kCommands[i] << QString(flag) << options[i];
    }
    void commandHelp() {
        QFETCH(QString, command);
        QFETCH(QString, flag);
        QFETCH(QString, option);
        // Alone, and after other arguments: help wins over anything missing or wrong.
        for (const QStringList& args : {QStringList{command, flag},
                                        QStringList{command, "model.h5", "--threads", "2", flag}}) {
            const CliRun run = runCwb(args);
            QCOMPARE(run.exitCode, 0);
            QVERIFY2(run.err.isEmpty(), run.err.constData());
            const QString out = QString::fromUtf8(run.out);
            QVERIFY2(out.contains("Usage: cwb " + command), run.out.constData());
            QVERIFY2(out.contains(option), run.out.constData());
            QVERIFY2(out.contains("-h,--help"), run.out.constData());
        }
    }

    void version() {
        const CliRun run = runCwb({"--version"});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.err.isEmpty(), run.err.constData());
        // The version of CMake's project(), which the build hands to this test too.
        QCOMPARE(QString::fromUtf8(run.out), QString("cwb " CWB_VERSION "\n"));
    }

    void usageErrors_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("command");
        QTest::addColumn<QString>("expected");
        const QString model = fixturePath("k3legacy_mlp_ntu113.h5");
        QTest::newRow("unknown option") << QStringList{"eval", model, "--bogus", "3"} << "eval"
                                        << "unknown option --bogus";
        QTest::newRow("unknown option with =") << QStringList{"info", model, "--bogus=3"} << "info"
                                               << "unknown option --bogus";
        QTest::newRow("unknown option before a missing one")
            << QStringList{"train", "--arhc", "mlp:8", "-o", "x.h5"} << "train"
            << "unknown option --arhc";
        QTest::newRow("threads out of range")
            << QStringList{"eval", model, "--threads", "99999999999"} << "eval"
            << "option --threads: expects a whole number in 0..1024, got '99999999999'";
        QTest::newRow("threads out of range, train")
            << QStringList{"train", "--arch", "mlp:8", "-o", "x.h5", "--threads", "99999999999"}
            << "train"
            << "option --threads: expects a whole number in 0..1024";
        QTest::newRow("negative count")
            << QStringList{"eval", model, "--limit", "-3"} << "eval"
            << "option --limit: expects a whole number in 0..100000000, got '-3'";
        QTest::newRow("not a number")
            << QStringList{"eval", model, "--batch", "lots"} << "eval"
            << "option --batch: expects a whole number in 1..65536, got 'lots'";
        QTest::newRow("fraction for a count")
            << QStringList{"compress", model, "-o", "x.h5", "--bits", "4.5"} << "compress"
            << "option --bits: expects a whole number in 2..8, got '4.5'";
        QTest::newRow("number out of interval")
            << QStringList{"eval", model, "--sparsity", "1.5"} << "eval"
            << "option --sparsity: expects a number in [0, 1], got '1.5'";
        QTest::newRow("not finite") << QStringList{"sweep", model,  "--param", "rho",     "--from",
                                                   "0",     "--to", "inf",     "--steps", "3"}
                                    << "sweep"
                                    << "option --to: expects a number in (-inf, inf), got 'inf'";
        QTest::newRow("missing value") << QStringList{"eval", model, "--limit"} << "eval"
                                       << "option --limit needs a value";
        QTest::newRow("missing value of -o") << QStringList{"compress", model, "-o"} << "compress"
                                             << "option --output needs a value";
        QTest::newRow("missing argument") << QStringList{"eval"} << "eval"
                                          << "MODEL is required";
        QTest::newRow("missing option")
            << QStringList{"sweep", model, "--param", "rho", "--from", "0", "--to", "1"} << "sweep"
            << "--steps is required";
        QTest::newRow("extra argument") << QStringList{"info", model, "other.h5"} << "info"
                                        << "unexpected argument 'other.h5'";
        QTest::newRow("bad word")
            << QStringList{"eval", model, "--kernel", "gpu"} << "eval"
            << "option --kernel: unknown kernel choice 'gpu'; expected auto, float, int8 or sparse";
        QTest::newRow("unknown device")
            << QStringList{"eval", model, "--device", "gpu"} << "eval"
            << "option --device: device 'gpu' is not known; choose cpu, cuda, cuda:N or auto";
        QTest::newRow("bad setting name")
            << QStringList{"compress", model, "-o", "x.h5", "--bits", "4", "--scheme", "skew"}
            << "compress"
            << "option --scheme: unknown scheme 'skew'; expected";
        QTest::newRow("option of the other sweep")
            << QStringList{"sweep", model, "--param", "alpha", "--from",   "0",
                           "--to",  "1",   "--steps", "2",     "--epochs", "3"}
            << "sweep"
            << "option --epochs does not apply to --param alpha";
        QTest::newRow("unknown command") << QStringList{"evaluate", model} << ""
                                         << "unknown command 'evaluate'";
        QTest::newRow("unknown top-level option") << QStringList{"--verbose"} << ""
                                                  << "unknown option --verbose";
        QTest::newRow("no command") << QStringList{} << ""
                                    << "a command is required";
    }
    void usageErrors() {
        QFETCH(QStringList, args);
        QFETCH(QString, command);
        QFETCH(QString, expected);
        expectUsageError(runCwb(args), command, expected);
    }

    // A failure of the work itself stays exit status 1, with core's one-line message.
    void coreErrorsExitOne() {
        const CliRun run = runCwb({"info", "/nonexistent/model.h5"});
        QCOMPARE(run.exitCode, 1);
        QCOMPARE(run.err, QByteArray("cwb info: /nonexistent/model.h5: file not found\n"));
    }

    // Commands that draw nothing never start Qt: a platform that does not exist, which would
    // abort any Qt application, does not matter to them.
    void noQtWithoutPlots() {
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert("QT_QPA_PLATFORM", "no-such-platform");
        const CliRun run = runCwb({"info", fixturePath("k3_cnn_umer.keras")}, 60000, environment);
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.err.isEmpty(), run.err.constData());
        QVERIFY(run.out.contains("parameters:      225034\n"));
    }
};

QTEST_GUILESS_MAIN(CwbUsageTest)
#include "cwb_usage_test.moc"
