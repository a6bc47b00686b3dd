// Perplexity of kjv-llama-6m on eval_revelation.txt by llama.cpp's protocol, original and
// with the workbench's alpha/rho on the block matrices, against the figures of
// tests/fixtures/llm/EXPECTED.md (transformers in float32 with the same rule applied).
#include <QtTest>
#include <cmath>

#include "core/error.h"
#include "core/llm/llm_compress.h"
#include "core/llm/perplexity.h"
#include "tests/support/llm_fixture.h"

using namespace cwb;
using namespace cwb::test;

namespace {

#ifdef CWB_SANITIZER_BUILD
// The sanitizers run this 5 to 20 times slower: a few chunks show the memory is handled
// right; the figures are checked by the normal build.
constexpr int kChunks = 2;
#else
constexpr int kChunks = 0;  // all 71
#endif

LlmCompression alphaRho(float alpha, float rho) {
    LlmCompression c;
    c.settings.quant.alpha = alpha;
    c.settings.prune.rho = rho;
    return c;
}

}  // namespace

class LlmPerplexityTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        m_ckpt = loadKjvSafetensors();
        m_tokens = revelationTokens();
        QCOMPARE(m_tokens.size(), std::size_t(18322));
    }

    void alphaRhoMatchTransformers_data() {
        QTest::addColumn<float>("alpha");
        QTest::addColumn<float>("rho");
        QTest::addColumn<double>("expected");
        QTest::newRow("original") << 0.f << 0.f << 29.8523;
#ifndef CWB_SANITIZER_BUILD
        QTest::newRow("alpha 0.01") << 0.01f << 0.f << 30.0088;
        QTest::newRow("alpha 0.02") << 0.02f << 0.f << 30.8660;
        QTest::newRow("alpha 0.05") << 0.05f << 0.f << 40.3187;
        QTest::newRow("rho 0.01") << 0.f << 0.01f << 29.8320;
        QTest::newRow("rho 0.02") << 0.f << 0.02f << 32.5073;
#endif
        QTest::newRow("alpha 0.02 rho 0.02") << 0.02f << 0.02f << 33.1092;
    }
    void alphaRhoMatchTransformers() {
        QFETCH(float, alpha);
        QFETCH(float, rho);
        QFETCH(double, expected);
        const LlmCompressionResult compressed =
            compressLlama(m_ckpt.config, m_ckpt.weights, alphaRho(alpha, rho), {2, {}});
        PerplexityOptions options;
        options.threads = 2;
        options.maxChunks = kChunks;
        std::vector<PerplexityStats> progress;
        options.onChunk = [&](const PerplexityStats& s) { progress.push_back(s); };
        const PerplexityResult r =
            measurePerplexity(m_ckpt.config, compressed.weights, m_tokens, options);
        qInfo("PPL %.4f +/- %.4f (95%% %.4f .. %.4f) in %.2f s", r.stats.perplexity,
              r.stats.perplexityError, r.stats.low, r.stats.high, r.seconds);

        QCOMPARE(int(progress.size()), r.stats.chunks);
        QCOMPARE(progress.back().perplexity, r.stats.perplexity);
        QVERIFY(r.stats.low < r.stats.perplexity && r.stats.perplexity < r.stats.high);
        QVERIFY(!r.stats.hasKl);
        if (kChunks) return;
        QCOMPARE(r.stats.chunks, 71);
        QCOMPARE(r.stats.scored, 9017LL);
        QVERIFY2(std::fabs(r.stats.perplexity / expected - 1) <= 0.001,
                 qPrintable(QString("%1 where transformers gives %2")
                                .arg(r.stats.perplexity, 0, 'f', 4)
                                .arg(expected)));
    }

    void runningFiguresFollowTheChunks() {
        PerplexityOptions options;
        options.threads = 2;
        options.maxChunks = 3;
        std::vector<PerplexityStats> progress;
        options.onChunk = [&](const PerplexityStats& s) { progress.push_back(s); };
        const PerplexityResult r =
            measurePerplexity(m_ckpt.config, m_ckpt.weights, m_tokens, options);
        QCOMPARE(int(progress.size()), 3);
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(progress[i].chunks, i + 1);
            QCOMPARE(progress[i].totalChunks, 3);
            QCOMPARE(progress[i].scored, 127LL * (i + 1));
        }
        QCOMPARE(r.stats.scored, 381LL);
        // llama.cpp's uncertainty: PPL times the standard error of the mean NLL; the interval
        // is that error's 95 % band on the log scale.
        const double error = r.stats.perplexityError / r.stats.perplexity;
        QVERIFY(std::fabs(std::log(r.stats.high) - r.stats.meanNll - 1.96 * error) < 1e-9);
        QVERIFY(std::fabs(r.stats.meanNll - std::log(r.stats.low) - 1.96 * error) < 1e-9);
    }

    // The original against itself: no divergence, every top token the same. A compressed
    // model against a recorded run of the original: the same figures as running both.
    void klAgainstTheOriginal() {
        PerplexityOptions options;
        options.threads = 2;
        options.maxChunks = 2;
        options.reference = &m_ckpt.weights;
        const PerplexityResult self =
            measurePerplexity(m_ckpt.config, m_ckpt.weights, m_tokens, options);
        QVERIFY(self.stats.hasKl);
        QVERIFY(std::fabs(self.stats.meanKl) < 1e-9);
        QCOMPARE(self.stats.sameTop, 1.0);

        const LlmCompressionResult compressed =
            compressLlama(m_ckpt.config, m_ckpt.weights, alphaRho(0.05f, 0.f), {2, {}});
        const PerplexityResult live =
            measurePerplexity(m_ckpt.config, compressed.weights, m_tokens, options);
        QVERIFY(live.stats.meanKl > 0.01);
        QVERIFY(live.stats.sameTop < 1.0);

        PerplexityReference original;
        options.reference = nullptr;
        options.record = &original;
        const PerplexityResult recording =
            measurePerplexity(m_ckpt.config, m_ckpt.weights, m_tokens, options);
        QVERIFY(!recording.stats.hasKl);
        QCOMPARE(original.logProbs.size(), std::size_t(2 * 127 * 4096));
        options.record = nullptr;
        options.recorded = &original;
        const PerplexityResult replayed =
            measurePerplexity(m_ckpt.config, compressed.weights, m_tokens, options);
        QCOMPARE(replayed.stats.meanKl, live.stats.meanKl);
        QCOMPARE(replayed.stats.sameTop, live.stats.sameTop);
        QCOMPARE(replayed.stats.perplexity, live.stats.perplexity);

        // A recording of other tokens is refused.
        std::vector<std::int32_t> other = m_tokens;
        other[300] = 7;
        QVERIFY_THROWS_EXCEPTION(
            Error, measurePerplexity(m_ckpt.config, compressed.weights, other, options));
    }

    void cancelStopsTheRun() {
        PerplexityOptions options;
        options.threads = 2;
        int chunks = 0;
        options.onChunk = [&](const PerplexityStats&) { ++chunks; };
        options.cancel = [&] { return chunks >= 2; };
        QVERIFY_THROWS_EXCEPTION(
            Cancelled, measurePerplexity(m_ckpt.config, m_ckpt.weights, m_tokens, options));
        QCOMPARE(chunks, 2);
    }

    void badOptionsGiveOneLine_data() {
        QTest::addColumn<int>("context");
        QTest::addColumn<int>("tokens");
        QTest::addColumn<QString>("message");
        QTest::newRow("short text")
            << 256 << 255 << "the text gives 255 tokens, fewer than one chunk of 256";
        QTest::newRow("odd context") << 255 << 1000 << "even number of at least 4 tokens, not 255";
    }
    void badOptionsGiveOneLine() {
        QFETCH(int, context);
        QFETCH(int, tokens);
        QFETCH(QString, message);
        PerplexityOptions options;
        options.context = context;
        options.maxChunks = 1;
        LlamaConfig config = m_ckpt.config;
        try {
            measurePerplexity(config, m_ckpt.weights,
                              std::span(m_tokens).first(static_cast<std::size_t>(tokens)), options);
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains(message), e.what());
        }
    }

private:
    LlamaCheckpoint m_ckpt;
    std::vector<std::int32_t> m_tokens;
};

QTEST_GUILESS_MAIN(LlmPerplexityTest)
#include "llm_perplexity_test.moc"
