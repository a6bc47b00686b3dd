// The Llama forward pass against PyTorch: kjv-llama-6m's logits for the first 64 tokens of
// eval_revelation.txt (transformers, float32 on the bf16 weights), batched and one token at
// a time through the KV cache, in both RoPE layouts; and the errors it must give.
#include "core/llm/llama_forward.h"

#include <QtTest>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "tests/support/llm_fixture.h"

using namespace cwb;
using namespace cwb::test;

namespace {

constexpr int kPositions = 64;

// The largest |a - b| over the first `rows` rows of the reference, and the rows where argmax
// differs.
struct Comparison {
    double maxError = 0.0;
    int argmaxMismatches = 0;
};

Comparison compareLogits(const std::vector<float>& logits, const NpyArray& reference, int firstRow,
                         int rows) {
    const int vocab = static_cast<int>(reference.shape[1]);
    Comparison c;
    for (int r = 0; r < rows; ++r) {
        const float* mine = logits.data() + static_cast<std::size_t>(r) * vocab;
        const float* ref = reference.values.data() + static_cast<std::size_t>(firstRow + r) * vocab;
        int best = 0, refBest = 0;
        for (int i = 0; i < vocab; ++i) {
            c.maxError = std::max(c.maxError, static_cast<double>(std::fabs(mine[i] - ref[i])));
            if (mine[i] > mine[best]) best = i;
            if (ref[i] > ref[refBest]) refBest = i;
        }
        c.argmaxMismatches += best != refBest;
    }
    return c;
}

// q and k rows reordered from rotate-half to adjacent pairs, as convert_hf_to_gguf does:
// row h*d + 2i + j of the result is row h*d + j*d/2 + i of the original.
Tensor permuteForAdjacentPairs(const Tensor& w, int heads, int headDim) {
    const std::vector<float> src = w.toFloatVector();
    const std::int64_t cols = w.shape()[1];
    std::vector<float> dst(src.size());
    for (int h = 0; h < heads; ++h)
        for (int i = 0; i < headDim / 2; ++i)
            for (int j = 0; j < 2; ++j) {
                const std::int64_t to = h * headDim + 2 * i + j;
                const std::int64_t from = h * headDim + j * headDim / 2 + i;
                std::memcpy(dst.data() + to * cols, src.data() + from * cols, cols * 4);
            }
    return Tensor::fromFloats(w.shape(), std::move(dst));
}

std::vector<std::int32_t> firstTokens() {
    auto ids = revelationTokens();
    ids.resize(kPositions);
    return ids;
}

}  // namespace

class LlamaForwardTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        m_ckpt = loadKjvSafetensors();
        m_reference = readNpy(llmFixture("kjv-llama-6m.logits64.npy"));
        QCOMPARE(m_reference.shape, (std::vector<std::int64_t>{kPositions, 4096}));
    }

    void batchedPrefillMatchesTransformers_data() {
        QTest::addColumn<int>("threads");
        QTest::newRow("1 thread") << 1;
        QTest::newRow("2 threads") << 2;
    }
    void batchedPrefillMatchesTransformers() {
        QFETCH(int, threads);
        LlamaForward model(m_ckpt.config, m_ckpt.weights, {threads, 128, {}});
        std::vector<float> logits;
        model.forward(firstTokens(), 0, kPositions, logits);
        const Comparison c = compareLogits(logits, m_reference, 0, kPositions);
        QVERIFY2(c.maxError <= 1e-3, qPrintable(QString("max |error| %1").arg(c.maxError)));
        QCOMPARE(c.argmaxMismatches, 0);
        QCOMPARE(model.position(), kPositions);

        // The same thread count gives the same bits.
        std::vector<float> again;
        model.reset();
        model.forward(firstTokens(), 0, kPositions, again);
        QVERIFY(std::memcmp(logits.data(), again.data(), logits.size() * 4) == 0);
    }

    // Independent sequences in one call (LlamaRunner::prefillBatch, here forward() in turn):
    // each starts at position 0, so both copies of the first 32 tokens end on transformers'
    // row 31; the cache is left empty; unequal parts are refused.
    void prefillBatchRunsEachSequenceFromTheStart() {
        LlamaForward model(m_ckpt.config, m_ckpt.weights, {2, 128, {}});
        const auto ids = firstTokens();
        std::vector<std::int32_t> two(ids.begin(), ids.begin() + 32);
        two.insert(two.end(), ids.begin(), ids.begin() + 32);
        std::vector<float> logits;
        model.forward(std::span(ids).first(3), 0, 3, logits);  // the batch ignores the cache
        model.prefillBatch(two, 2, logits);
        QCOMPARE(logits.size(), std::size_t(2 * 4096));
        QCOMPARE(model.position(), 0);
        for (int s = 0; s < 2; ++s) {
            const std::vector<float> row(logits.begin() + s * 4096,
                                         logits.begin() + (s + 1) * 4096);
            const Comparison c = compareLogits(row, m_reference, 31, 1);
            QVERIFY2(c.maxError <= 1e-3, qPrintable(QString("max |error| %1").arg(c.maxError)));
        }
        QVERIFY_THROWS_EXCEPTION(Error, model.prefillBatch(std::span(ids).first(3), 2, logits));
        QVERIFY_THROWS_EXCEPTION(Error, model.prefillBatch(std::span(ids).first(4), 0, logits));
    }

    // Generation's path: a prompt, then one token per call through the KV cache.
    void kvCacheStepsMatchTransformers() {
        LlamaForward model(m_ckpt.config, m_ckpt.weights, {2, 128, {}});
        const auto ids = firstTokens();
        const int prompt = 5;
        std::vector<float> logits;
        model.forward(std::span(ids).first(prompt), 0, prompt, logits);
        Comparison c = compareLogits(logits, m_reference, 0, prompt);
        for (int p = prompt; p < kPositions; ++p) {
            model.forwardLast(std::span(ids).subspan(p, 1), logits);
            const Comparison step = compareLogits(logits, m_reference, p, 1);
            c.maxError = std::max(c.maxError, step.maxError);
            c.argmaxMismatches += step.argmaxMismatches;
        }
        QVERIFY2(c.maxError <= 1e-3, qPrintable(QString("max |error| %1").arg(c.maxError)));
        QCOMPARE(c.argmaxMismatches, 0);
    }

    // llama.cpp's and llama2.c's RoPE on adjacent pairs, with q and k permuted to match.
    void adjacentPairsLayoutGivesTheSameLogits() {
        LlamaConfig config = m_ckpt.config;
        config.rope = RopeLayout::AdjacentPairs;
        LlamaWeights weights = m_ckpt.weights;
        for (auto& b : weights.blocks) {
            b.q = permuteForAdjacentPairs(b.q, config.heads, config.headDim);
            b.k = permuteForAdjacentPairs(b.k, config.kvHeads, config.headDim);
        }
        LlamaForward model(config, weights, {2, 64, {}});
        std::vector<float> logits;
        model.forward(firstTokens(), 0, kPositions, logits);
        const Comparison c = compareLogits(logits, m_reference, 0, kPositions);
        QVERIFY2(c.maxError <= 1e-3, qPrintable(QString("max |error| %1").arg(c.maxError)));
    }

    void cancelStopsTheCall() {
        int layers = 0;
        LlamaForward model(m_ckpt.config, m_ckpt.weights, {1, 64, [&] { return ++layers > 2; }});
        std::vector<float> logits;
        QVERIFY_THROWS_EXCEPTION(Cancelled, model.forward(firstTokens(), 0, 1, logits));
        QCOMPARE(layers, 3);
        QCOMPARE(model.position(), 0);
    }

    void badCallsGiveOneLine_data() {
        QTest::addColumn<int>("token");
        QTest::addColumn<int>("count");
        QTest::addColumn<QString>("message");
        QTest::newRow("token past the vocabulary")
            << 4096 << 1 << "token id 4096 is outside the vocabulary of 4096";
        QTest::newRow("negative token") << -1 << 1 << "token id -1 is outside the vocabulary";
        QTest::newRow("context overflow") << 5 << 65 << "65 tokens exceed the context of 64";
    }
    void badCallsGiveOneLine() {
        QFETCH(int, token);
        QFETCH(int, count);
        QFETCH(QString, message);
        LlamaForward model(m_ckpt.config, m_ckpt.weights, {1, 64, {}});
        std::vector<std::int32_t> ids(static_cast<std::size_t>(count), token);
        std::vector<float> logits;
        try {
            model.forward(ids, 0, 1, logits);
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains(message), e.what());
        }
        QCOMPARE(model.position(), 0);
    }

    void weightsThatDoNotFitTheConfigAreRefused() {
        LlamaWeights weights = m_ckpt.weights;
        weights.blocks[3].k = weights.blocks[3].q;
        try {
            validateLlama(m_ckpt.config, weights);
            QFAIL("no error");
        } catch (const Error& e) {
            QCOMPARE(QString(e.what()),
                     QString("Llama weights: layer 3 k projection has shape (256, 256) where the "
                             "model's config needs (64, 256)"));
        }
        LlamaConfig config = m_ckpt.config;
        config.kvHeads = 3;
        QVERIFY_THROWS_EXCEPTION(Error, validateLlama(config, m_ckpt.weights));
    }

private:
    LlamaCheckpoint m_ckpt;
    NpyArray m_reference;
};

QTEST_GUILESS_MAIN(LlamaForwardTest)
#include "llama_forward_test.moc"
