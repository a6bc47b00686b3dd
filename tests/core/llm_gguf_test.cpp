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
#include "core/quant/block_formats.h"
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
    // Q8_0 rounds every weight, so the logits move (by up to about 0.15) but the most likely
    // token stays at every position. Why this holds, and is not luck of the summation order:
    // the smallest margin is at position 31, where transformers puts token 4006 0.039 above
    // token 3995 and the Q8_0 model only 0.002 above (its rounding moved the two by -0.017
    // and +0.020). That margin belongs to the Q8_0 model itself as llama.cpp's reference dot
    // products compute it: a 64-token forward pass goes through the tiles, which reproduce
    // those dot products bit for bit, so the logits are the same bits with the scalar
    // reference kernels on one thread as with the vector kernels on two (checked here), and
    // no kernel family or thread count can move them. What can move them is a different
    // quantization of the activations: one token at a time (generation's kernels, another
    // float order) an activation near a rounding boundary can round the other way, which
    // moves logits by up to about 0.08 here; that path keeps the argmax too (margin 0.005 at
    // position 31), reported but not required, since it is not the check.
    void q8_0FileKeepsTheArgmaxOfTransformers() {
        const LlamaCheckpoint ckpt = openLlamaCheckpoint(llmFixture("kjv-llama-6m.Q8_0.gguf"));
        QCOMPARE(ckpt.config.rope, RopeLayout::AdjacentPairs);
        QCOMPARE(ckpt.weights.blocks[0].q.dtype(), DType::Q8_0);
        const NpyArray reference = readNpy(llmFixture("kjv-llama-6m.logits64.npy"));
        auto ids = revelationTokensOf(ckpt);
        QCOMPARE(ids, revelationTokens());  // the embedded vocabulary encodes as SentencePiece
        ids.resize(64);
        const int vocab = 4096;

        std::vector<float> logits, scalar, steps;
        LlamaForward(ckpt.config, ckpt.weights, {2, 64, {}}).forward(ids, 0, 64, logits);
        {
            const quant::Isa best = quant::activeIsa();
            quant::setActiveIsa(quant::Isa::Scalar);
            LlamaForward(ckpt.config, ckpt.weights, {1, 64, {}}).forward(ids, 0, 64, scalar);
            quant::setActiveIsa(best);
        }
        QVERIFY(std::memcmp(logits.data(), scalar.data(), logits.size() * sizeof(float)) == 0);
        {
            LlamaForward model(ckpt.config, ckpt.weights, {2, 64, {}});
            std::vector<float> step;
            for (int p = 0; p < 64; ++p) {
                model.forwardLast(std::span(ids).subspan(p, 1), step);
                steps.insert(steps.end(), step.begin(), step.end());
            }
        }

        int same = 0, sameSteps = 0, smallestAt = -1;
        double maxError = 0, smallestMargin = 1e9;
        for (int p = 0; p < 64; ++p) {
            const float* ref = reference.values.data() + p * vocab;
            const float* mine = logits.data() + p * vocab;
            const float* step = steps.data() + p * vocab;
            const auto top = [&](const float* v) {
                return static_cast<int>(std::max_element(v, v + vocab) - v);
            };
            const int refTop = top(ref);
            same += top(mine) == refTop;
            sameSteps += top(step) == refTop;
            for (int i = 0; i < vocab; ++i) {
                maxError = std::max(maxError, double(std::fabs(mine[i] - ref[i])));
                if (i != refTop && mine[refTop] - mine[i] < smallestMargin) {
                    smallestMargin = mine[refTop] - mine[i];
                    smallestAt = p;
                }
            }
        }
        qInfo(
            "Q8_0: argmax equal at %d of 64 positions (one token at a time: %d), max |logit "
            "error| %.4f, smallest margin %.4f at position %d",
            same, sameSteps, maxError, smallestMargin, smallestAt);
        QCOMPARE(same, 64);
        QVERIFY(maxError < 0.2);
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
