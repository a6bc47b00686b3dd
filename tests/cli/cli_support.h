// What every test of the `cwb` binary needs: run it as a user would (a separate process,
// killed if it hangs), the fixture and scratch paths as QStrings, and the one-line-error check.
#pragma once

#include <QProcess>
#include <QtTest>

#include "tests/support/test_paths.h"

namespace cwb::test {

struct CliRun {
    int exitCode = -1;  // -1: crashed or timed out
    QByteArray out, err;
};

inline CliRun runCwb(const QStringList& args, int timeoutMs = 300000) {
    QProcess process;
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

}  // namespace cwb::test
