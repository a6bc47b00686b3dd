// `cwb ppl`, `generate`, `bench`, `synth` and `info` on language-model checkpoints, run as a
// user runs them, against the figures of tests/fixtures/llm/EXPECTED.md (transformers and
// llama.cpp) and llama2.c's run.c.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include "tests/cli/cli_support.h"

using namespace cwb::test;

namespace {

QString llm(const char* name) { return QString::fromStdString(llmFixture(name)); }

QJsonObject jsonOf(const CliRun& run) { return QJsonDocument::fromJson(run.out).object(); }

// |value - expected| within `relative` of expected.
bool near(double value, double expected, double relative) {
    return std::abs(value - expected) <= relative * std::abs(expected);
}

}  // namespace

class CwbLlmTest : public QObject {
    Q_OBJECT
private slots:
    void perplexityOfTheFolderMatchesTransformers() {
        const CliRun run = runCwb({"ppl", llm("kjv-llama-6m"), "--json", "--threads", "2"});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonObject r = jsonOf(run);
        QCOMPARE(r["chunks"].toInt(), 71);
        QCOMPARE(r["scoredTokens"].toInt(), 9017);
        QVERIFY2(near(r["perplexity"].toDouble(), 29.8523, 0.001), run.out.constData());
    }

    void perplexityWithAlphaAndRho() {
        const CliRun run = runCwb({"ppl", llm("kjv-llama-6m"), "--alpha", "0.02", "--rho", "0.02",
                                   "--json", "--threads", "2"});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QVERIFY2(near(jsonOf(run)["perplexity"].toDouble(), 33.1092, 0.001), run.out.constData());
    }

#ifndef CWB_SANITIZER_BUILD  // two more whole runs: the sanitizer build keeps the two above
    void ggufReadAsItIsMatchesLlamaCpp() {
        const CliRun run = runCwb({"ppl", llm("kjv-llama-6m.Q4_K.gguf"), "--json"});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QVERIFY2(near(jsonOf(run)["perplexity"].toDouble(), 30.0444, 0.005), run.out.constData());
    }

    void blockFormatWithKlMatchesLlamaCpp() {
        const CliRun run = runCwb(
            {"ppl", llm("kjv-llama-6m"), "--format", "Q4_K", "--scope", "all", "--kl", "--json"});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonObject r = jsonOf(run);
        QVERIFY2(near(r["perplexity"].toDouble(), 30.0444, 0.005), run.out.constData());
        QVERIFY2(near(r["meanKl"].toDouble(), 0.009892, 0.05), run.out.constData());
        QVERIFY2(near(r["sameTop"].toDouble(), 0.9283, 0.01), run.out.constData());
        QVERIFY2(near(r["bitsPerWeight"].toDouble(), 4.5, 1e-6), run.out.constData());
    }
#endif

    void llama2cGeneratesWhatRunCGenerates() {
        const CliRun run = runCwb({"generate", llm("aidreams260K/aidreams260K.bin"), "--prompt",
                                   "The dream", "-n", "60"});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QVERIFY2(run.out.startsWith("The dream align, as I seep into the void. Classification "
                                    "whispers secrets, a gentle hum of probability unfolding."),
                 run.out.constData());
    }

    void benchReportsSpeedAgainstBandwidth() {
        const CliRun run = runCwb({"bench", llm("kjv-llama-6m.Q4_0.gguf"), "-p", "16", "-n", "4",
                                   "-r", "1", "--threads", "1", "--json"});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonObject r = jsonOf(run);
        QVERIFY(r["prefillTokensPerSecond"].toDouble() > 0);
        QVERIFY(r["generateTokensPerSecond"].toDouble() > 0);
        QVERIFY(r["readBandwidth"].toDouble() > 1e8);
        // Q4_0 blocks of 32 weights in 18 bytes, F32 norms: 6.6 M weights read about 3.1 MB.
        QVERIFY(near(r["weightBytesPerToken"].toDouble(), 3.1e6, 0.1));
    }

    void synthWritesACheckpointThatInfoDescribes() {
        const QString dir = tempPath("synth-small");
        const CliRun made = runCwb({"synth", "--shape", "small", "-o", dir});
        QVERIFY2(made.exitCode == 0, made.err.constData());
        const CliRun again = runCwb({"synth", "--shape", "small", "-o", dir});
        expectOneLineError(again, "already exists");
        const CliRun info = runCwb({"info", dir, "--json"});
        QVERIFY2(info.exitCode == 0, info.err.constData());
        const QJsonObject r = jsonOf(info);
        QCOMPARE(r["tensors"].toArray().size(), 2 + 9 * 6 + 1);
        QCOMPARE(r["elements"].toDouble(), 6622464.0);  // kjv-llama-6m's shape
        QCOMPARE(r["bitsPerWeight"].toDouble(), 16.0);
    }

    // The written file itself is checked against llama-quantize's in gguf_writer_test.
    void quantizeWritesAGgufAndNeverOverwrites() {
        const QString out = tempPath("kjv.Q4_0.gguf");
        const CliRun made = runCwb({"quantize", llm("kjv-llama-6m"), "--format", "Q4_0", "--scope",
                                    "all", "-o", out, "--threads", "2"});
        QVERIFY2(made.exitCode == 0, made.err.constData());
        const CliRun again =
            runCwb({"quantize", llm("kjv-llama-6m"), "--format", "Q8_0", "-o", out});
        expectOneLineError(again, "already exists");
        const CliRun info = runCwb({"info", out, "--json"});
        QVERIFY2(info.exitCode == 0, info.err.constData());
        QVERIFY2(info.out.contains("Q4_0"), info.out.constData());
        const CliRun forced =
            runCwb({"quantize", llm("kjv-llama-6m"), "--format", "Q8_0", "-o", out, "--force"});
        QVERIFY2(forced.exitCode == 0, forced.err.constData());
        const CliRun infoForced = runCwb({"info", out});
        QVERIFY2(infoForced.out.contains("Q8_0"), infoForced.out.constData());
    }

    void infoDescribesEachFormat_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("format");
        QTest::addColumn<int>("tensors");
        QTest::newRow("folder") << llm("kjv-llama-6m") << "Hugging Face" << 57;
        QTest::newRow("gguf") << llm("kjv-llama-6m.Q2_K.gguf") << "GGUF v3" << 57;
        QTest::newRow("llama2.c") << llm("aidreams260K/aidreams260K.bin") << "llama2.c" << 13;
    }
    void infoDescribesEachFormat() {
        QFETCH(QString, path);
        QFETCH(QString, format);
        QFETCH(int, tensors);
        const CliRun run = runCwb({"info", path, "--json"});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonObject r = jsonOf(run);
        QVERIFY2(r["format"].toString().startsWith(format), run.out.constData());
        QCOMPARE(r["tensors"].toArray().size(), tensors);
    }

    void badCommandLinesAreUsageErrors_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("command");
        QTest::addColumn<QString>("says");
        const QString kjv = llm("kjv-llama-6m");
        QTest::newRow("kl without compression") << QStringList{"ppl", kjv, "--kl"} << "ppl"
                                                << "--kl compares";
        QTest::newRow("unknown format") << QStringList{"ppl", kjv, "--format", "Q9_9"} << "ppl"
                                        << "--format";
        QTest::newRow("format and alpha")
            << QStringList{"ppl", kjv, "--format", "Q4_0", "--alpha", "0.01"} << "ppl"
            << "--format replaces";
        QTest::newRow("bad scope") << QStringList{"ppl", kjv, "--scope", "half"} << "ppl"
                                   << "--scope";
        QTest::newRow("no prompt") << QStringList{"generate", kjv} << "generate"
                                   << "--prompt";
        QTest::newRow("unknown shape")
            << QStringList{"synth", "--shape", "gpt5", "-o", "x"} << "synth"
            << "unknown shape";
    }
    void badCommandLinesAreUsageErrors() {
        QFETCH(QStringList, args);
        QFETCH(QString, command);
        QFETCH(QString, says);
        expectUsageError(runCwb(args), command, says);
    }

    void aMissingCheckpointIsOneLine() {
        expectOneLineError(runCwb({"ppl", tempPath("no-such-model")}), "no-such-model");
    }
};

QTEST_GUILESS_MAIN(CwbLlmTest)
#include "cwb_llm_test.moc"
