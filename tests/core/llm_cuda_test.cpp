// The Llama forward pass on a CUDA GPU (core/llm/cuda) against transformers' logits and
// tests/fixtures/llm/EXPECTED.md, and against the CPU's pass in the same run: perplexity of
// kjv-llama-6m (bf16 safetensors and the Q8_0, Q4_0, Q4_K GGUFs as stored) within 0.1 % of the
// CPU's, greedy text equal. Skipped, saying why, where no GPU runs (a build without CUDA, no
// driver, no device).
#include <QtTest>
#include <cmath>

#include "core/backend/backend.h"
#include "core/io/llama_checkpoint.h"
#include "core/llm/checkpoint_tokenizer.h"
#include "core/llm/generate.h"
#include "core/llm/llama_forward.h"
#include "core/llm/perplexity.h"
#include "tests/support/llm_fixture.h"

using namespace cwb;
using namespace cwb::test;

namespace {

constexpr int kPositions = 64;
constexpr int kVocab = 4096;

// Largest |difference| from transformers' logits over rows [from, to) of `logits`, which hold
// positions from ... to - 1.
double maxLogitError(const std::vector<float>& logits, const NpyArray& reference, int from,
                     int to) {
    double worst = 0;
    for (int p = from; p < to; ++p)
        for (int i = 0; i < kVocab; ++i)
            worst =
                std::max(worst, double(std::fabs(logits[std::size_t(p - from) * kVocab + i] -
                                                 reference.values[std::size_t(p) * kVocab + i])));
    return worst;
}

}  // namespace

class LlmCudaTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        const BackendChoice choice = chooseBackend("cuda");
        if (!choice.note.empty())
            QSKIP(qPrintable("no GPU runs the CUDA Llama pass here: " +
                             QString::fromStdString(choice.note)));
        m_gpu = choice.backend;
        m_ckpt = loadKjvSafetensors();
        m_reference = readNpy(llmFixture("kjv-llama-6m.logits64.npy"));
        m_tokens = revelationTokens();
    }

    // A batch of 60 tokens (prefill: cuBLAS, tiled attention), then 4 one at a time through the
    // KV cache (matrix-vector kernels, one-query attention): transformers' logits to 1e-3.
    void prefillAndCacheMatchTransformers() {
        const auto runner = m_gpu->makeLlamaRunner(m_ckpt.config, m_ckpt.weights, {2, 128, {}});
        QVERIFY(runner->device().rfind("cuda", 0) == 0);
        const std::vector<std::int32_t> ids(m_tokens.begin(), m_tokens.begin() + kPositions);
        std::vector<float> logits;
        runner->forward(std::span(ids).first(60), 0, 60, logits);
        double worst = maxLogitError(logits, m_reference, 0, 60);
        for (int p = 60; p < kPositions; ++p) {
            runner->forward(std::span(ids).subspan(std::size_t(p), 1), 0, 1, logits);
            worst = std::max(worst, maxLogitError(logits, m_reference, p, p + 1));
        }
        qInfo("GPU logits: max |error| %.2e against transformers", worst);
        QVERIFY2(worst <= 1e-3, qPrintable(QString("max |error| %1").arg(worst)));
        QCOMPARE(runner->position(), kPositions);
    }

    void perplexityMatchesTheCpu_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<double>("expected");   // EXPECTED.md
        QTest::addColumn<double>("tolerance");  // relative, against EXPECTED.md
        QTest::newRow("bf16 safetensors") << "kjv-llama-6m" << 29.8523 << 0.001;
        QTest::newRow("Q8_0 GGUF") << "kjv-llama-6m.Q8_0.gguf" << 29.8525 << 0.005;
        QTest::newRow("Q4_0 GGUF") << "kjv-llama-6m.Q4_0.gguf" << 30.1626 << 0.005;
        QTest::newRow("Q4_K GGUF") << "kjv-llama-6m.Q4_K.gguf" << 30.0444 << 0.005;
    }
    void perplexityMatchesTheCpu() {
        QFETCH(QString, file);
        QFETCH(double, expected);
        QFETCH(double, tolerance);
        const LlamaCheckpoint ckpt = openLlamaCheckpoint(llmFixture(file.toStdString()));
        PerplexityOptions options;
        options.threads = 2;
        const double cpu =
            measurePerplexity(ckpt.config, ckpt.weights, m_tokens, options).stats.perplexity;
        options.backend = m_gpu;
        const PerplexityResult gpu =
            measurePerplexity(ckpt.config, ckpt.weights, m_tokens, options);
        qInfo("%s: GPU %.4f in %.2f s, CPU %.4f, EXPECTED.md %.4f", qPrintable(file),
              gpu.stats.perplexity, gpu.seconds, cpu, expected);
        QCOMPARE(gpu.stats.scored, 9017);
        QVERIFY(std::fabs(gpu.stats.perplexity / cpu - 1) <= 0.001);
        QVERIFY(std::fabs(gpu.stats.perplexity / expected - 1) <= tolerance);
    }

    void greedyTextMatchesTheCpu() {
        const auto tokenizer = kjvTokenizer();
        const std::vector<int> ids = tokenizer->encode("And the Lord said unto", true);
        const std::vector<std::int32_t> prompt(ids.begin(), ids.end());
        GenerateOptions options;
        options.maxTokens = 24;
        options.threads = 2;
        const GenerateResult cpu = generateGreedy(m_ckpt.config, m_ckpt.weights, prompt, options);
        options.backend = m_gpu;
        const GenerateResult gpu = generateGreedy(m_ckpt.config, m_ckpt.weights, prompt, options);
        QCOMPARE(gpu.tokens, cpu.tokens);
    }

    // The batched prefill (4 independent sequences of 100 tokens: a part-filled key tile, head
    // size 32, 16-bit activations) against the CPU's forward() of each sequence, and the CPU
    // runner's own prefillBatch (forward() in turn) against the same.
    void batchedPrefillMatchesTheCpu_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<double>("tolerance");  // of the largest |logit|
        QTest::newRow("bf16 safetensors (bf16 activations)") << "kjv-llama-6m" << 0.02;
        QTest::newRow("Q8_0 GGUF (f16 activations)") << "kjv-llama-6m.Q8_0.gguf" << 0.01;
    }
    void batchedPrefillMatchesTheCpu() {
        QFETCH(QString, file);
        QFETCH(double, tolerance);
        constexpr int kSequences = 4, kLength = 100;
        const LlamaCheckpoint ckpt = openLlamaCheckpoint(llmFixture(file.toStdString()));
        const auto ids = std::span(m_tokens).first(kSequences * kLength);
        LlamaForward cpu(ckpt.config, ckpt.weights, {2, 128, {}});
        std::vector<float> reference, one, batch, cpuBatch;
        for (int s = 0; s < kSequences; ++s) {
            cpu.reset();
            cpu.forwardLast(ids.subspan(std::size_t(s) * kLength, kLength), one);
            reference.insert(reference.end(), one.begin(), one.end());
        }
        cpu.prefillBatch(ids, kSequences, cpuBatch);
        QCOMPARE(cpuBatch, reference);
        const auto runner = m_gpu->makeLlamaRunner(ckpt.config, ckpt.weights, {2, 128, {}});
        runner->prefillBatch(ids, kSequences, batch);
        QCOMPARE(batch.size(), reference.size());
        QCOMPARE(runner->position(), 0);
        double worst = 0, scale = 0;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            QVERIFY(std::isfinite(batch[i]));
            worst = std::max(worst, double(std::fabs(batch[i] - reference[i])));
            scale = std::max(scale, double(std::fabs(reference[i])));
        }
        qInfo("%s: batched prefill max |difference| %.3e, largest |logit| %.3f", qPrintable(file),
              worst, scale);
        QVERIFY2(worst <= tolerance * scale, qPrintable(QString("max |difference| %1").arg(worst)));
    }

private:
    Backend* m_gpu = nullptr;
    LlamaCheckpoint m_ckpt;
    NpyArray m_reference;
    std::vector<std::int32_t> m_tokens;
};

QTEST_GUILESS_MAIN(LlmCudaTest)
#include "llm_cuda_test.moc"
