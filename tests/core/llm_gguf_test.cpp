// kjv-llama-6m converted by llama.cpp and quantized by llama-quantize --pure, read as the GGUF
// files are (packed blocks, adjacent-pair RoPE, the embedded vocabulary): the Q8_0 file's
// logits against transformers', and each file's perplexity against llama-perplexity's
// (tests/fixtures/llm/EXPECTED.md).
#include <QtTest>
#include <cmath>

#include "core/io/llama_checkpoint.h"
#include "core/llm/checkpoint_tokenizer.h"
#include "core/llm/llama_forward.h"
#include "core/llm/perplexity.h"
#include "tests/support/llm_fixture.h"

using namespace cwb;
using namespace cwb::test;

namespace {

#ifdef CWB_SANITIZER_BUILD
constexpr int kChunks = 2;  // the memory handling; the figures are the normal build's
#else
constexpr int kChunks = 0;
#endif

std::vector<std::int32_t> revelationTokensOf(const LlamaCheckpoint& ckpt) {
    return loadCheckpointTokenizer(ckpt)->encode(readBytes(llmFixture("eval_revelation.txt")),
                                                 true);
}

}  // namespace

class LlmGgufTest : public QObject {
    Q_OBJECT
private slots:
    // Q8_0 rounds every weight, so the logits move (by up to a few hundredths) but the most
    // likely token stays at every position.
    void q8_0FileKeepsTheArgmaxOfTransformers() {
        const LlamaCheckpoint ckpt = openLlamaCheckpoint(llmFixture("kjv-llama-6m.Q8_0.gguf"));
        QCOMPARE(ckpt.config.rope, RopeLayout::AdjacentPairs);
        QCOMPARE(ckpt.weights.blocks[0].q.dtype(), DType::Q8_0);
        const NpyArray reference = readNpy(llmFixture("kjv-llama-6m.logits64.npy"));
        auto ids = revelationTokensOf(ckpt);
        QCOMPARE(ids, revelationTokens());  // the embedded vocabulary encodes as SentencePiece
        ids.resize(64);
        LlamaForward model(ckpt.config, ckpt.weights, {2, 64, {}});
        std::vector<float> logits;
        model.forward(ids, 0, 64, logits);
        const int vocab = 4096;
        int same = 0;
        double maxError = 0;
        for (int p = 0; p < 64; ++p) {
            const float* mine = logits.data() + p * vocab;
            const float* ref = reference.values.data() + p * vocab;
            same += std::max_element(mine, mine + vocab) - mine ==
                    std::max_element(ref, ref + vocab) - ref;
            for (int i = 0; i < vocab; ++i)
                maxError = std::max(maxError, double(std::fabs(mine[i] - ref[i])));
        }
        qInfo("Q8_0: argmax equal at %d of 64 positions, max |logit error| %.4f", same, maxError);
        QCOMPARE(same, 64);
    }

    void filesMatchLlamaPerplexity_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<double>("perplexity");
        QTest::newRow("Q8_0") << "kjv-llama-6m.Q8_0.gguf" << 29.8525;
#ifndef CWB_SANITIZER_BUILD
        QTest::newRow("Q4_0") << "kjv-llama-6m.Q4_0.gguf" << 30.1626;
        QTest::newRow("Q4_K") << "kjv-llama-6m.Q4_K.gguf" << 30.0444;
#endif
        QTest::newRow("Q2_K") << "kjv-llama-6m.Q2_K.gguf" << 34.1847;
    }
    void filesMatchLlamaPerplexity() {
        QFETCH(QString, file);
        QFETCH(double, perplexity);
        const LlamaCheckpoint ckpt = openLlamaCheckpoint(llmFixture(file.toStdString()));
        PerplexityOptions options;
        options.threads = 2;
        options.maxChunks = kChunks;
        const PerplexityResult r =
            measurePerplexity(ckpt.config, ckpt.weights, revelationTokensOf(ckpt), options);
        qInfo("%s: PPL %.4f (llama.cpp %.4f) in %.2f s", qPrintable(file), r.stats.perplexity,
              perplexity, r.seconds);
        if (kChunks) return;
        QCOMPARE(r.stats.scored, 9017LL);
        QVERIFY2(std::fabs(r.stats.perplexity / perplexity - 1) <= 0.005,
                 "perplexity more than 0.5 % from llama.cpp's");
    }
};

QTEST_GUILESS_MAIN(LlmGgufTest)
#include "llm_gguf_test.moc"
