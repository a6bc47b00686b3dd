// What every test of the `cwb` binary needs: run it as a user would (a separate process,
// killed if it hangs), the fixture and scratch paths as QStrings, and the one-line-error checks.
#pragma once

#include <QProcess>
#include <QtTest>

#include "tests/support/test_paths.h"

namespace cwb::test {

struct CliRun {
    int exitCode = -1;  // -1: crashed or timed out
    QByteArray out, err;
};

// `environment`: the child's, by default this process's.
inline CliRun runCwb(
    const QStringList& args, int timeoutMs = 300000,
    const QProcessEnvironment& environment = QProcessEnvironment::systemEnvironment()) {
    QProcess process;
    process.setProcessEnvironment(environment);
    process.start(QString::fromStdString(binary("cwb")), args);
    CliRun run;
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        run.err = "timed out";
        return run;
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

inline QString fixturePath(const char* name) { return QString::fromStdString(fixture(name)); }
inline QString tempPath(const QString& name) {
    return QString::fromStdString(tempDir()) + "/" + name;
}
inline QString datasetPath() { return QString::fromStdString(datasetDir()); }

// A failure is one line on stderr saying what is wrong: no usage dump, no stack.
inline void expectOneLineError(const CliRun& run, const QString& mustContain) {
    QVERIFY2(run.exitCode > 0, run.err.constData());
    const QString err = QString::fromUtf8(run.err).trimmed();
    QVERIFY2(!err.isEmpty() && !err.contains('\n'), run.err.constData());
    QVERIFY2(err.contains(mustContain), run.err.constData());
}

// A usage error (a bad or missing option): exit status 2, nothing on stdout, one line on
// stderr that names the command and says where to read the usage.
inline void expectUsageError(const CliRun& run, const QString& command,
                             const QString& mustContain) {
    QVERIFY2(run.exitCode == 2, qPrintable(QString("exit %1: %2").arg(run.exitCode).arg(run.err)));
    QVERIFY2(run.out.isEmpty(), run.out.constData());
    QCOMPARE(run.err.count('\n'), 1);
    const QString err = QString::fromUtf8(run.err);
    const QString prefix = command.isEmpty() ? "cwb" : "cwb " + command;
    QVERIFY2(err.startsWith(prefix + ": "), run.err.constData());
    QVERIFY2(err.contains(mustContain), run.err.constData());
    QVERIFY2(err.contains("run '" + prefix + " --help' for usage"), run.err.constData());
}

}  // namespace cwb::test
