// Greedy generation against EXPECTED.md's text, and the speed measurement's bookkeeping.
#include <QtTest>

#include "core/error.h"
#include "core/io/llama_checkpoint.h"
#include "core/llm/checkpoint_tokenizer.h"
#include "core/llm/generate.h"
#include "core/llm/llm_speed.h"
#include "tests/support/llm_fixture.h"

using namespace cwb;
using namespace cwb::test;

class LlmGenerateTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { m_ckpt = loadKjvSafetensors(); }

    // EXPECTED.md: from "And the Lord said unto" kjv-llama-6m continues "him, Go up, and go
    // into the city, and go out to the city, and say, Thus saith the Lord GOD; Behold," where
    // the space after the second "go" is a newline (Markdown shows it as a space).
    void kjvContinuesAsExpected() {
        const auto tokenizer = kjvTokenizer();
        const std::vector<std::int32_t> prompt = tokenizer->encode("And the Lord said unto", true);
        const std::string text =
            "And the Lord said unto him, Go up, and go into the city, and go\n"
            "out to the city, and say, Thus saith the Lord GOD; Behold,";
        const std::vector<std::int32_t> whole = tokenizer->encode(text, true);
        const std::vector<std::int32_t> expected(whole.begin() + prompt.size(), whole.end());
        QCOMPARE(expected.size(), std::size_t(30));
        GenerateOptions options;
        options.maxTokens = static_cast<int>(expected.size());
        options.threads = 2;
        options.stopTokens = {2};
        std::vector<std::int32_t> streamed;
        options.onToken = [&](std::int32_t t) { streamed.push_back(t); };
        const GenerateResult r = generateGreedy(m_ckpt.config, m_ckpt.weights, prompt, options);
        QCOMPARE(r.tokens, expected);
        QCOMPARE(streamed, expected);
        std::vector<int> all = prompt;
        all.insert(all.end(), r.tokens.begin(), r.tokens.end());
        QCOMPARE(tokenizer->decode(all), text);
        QVERIFY(!r.stopped);
    }

    // EXPECTED.md: llama2.c's run.c generates this greedily from "The dream" with tok512.bin:
    // 50 tokens with BOS, the 7 of the prompt among them (run.c's steps count the prompt).
    // The same token ids, so the same text.
    void aidreamsGeneratesWhatRunCDoes() {
        // The reader takes the vocabulary from tok512.bin beside the checkpoint.
        const LlamaCheckpoint ckpt =
            openLlamaCheckpoint(llmFixture("aidreams260K/aidreams260K.bin"));
        const auto tokenizer = loadCheckpointTokenizer(ckpt);
        const std::string text =
            "The dream align, as I seep into the void. Classification "
            "whispers secrets, a gentle hum of probability unfolding.";
        const std::vector<std::int32_t> prompt = tokenizer->encode("The dream", true);
        const std::vector<std::int32_t> whole = tokenizer->encode(text, true);
        QCOMPARE(whole.size(), std::size_t(50));
        const std::vector<std::int32_t> expected(whole.begin() + prompt.size(), whole.end());
        GenerateOptions options;
        options.maxTokens = static_cast<int>(expected.size());
        options.threads = 2;
        options.stopTokens = {1};  // run.c stops at BOS
        const GenerateResult r = generateGreedy(ckpt.config, ckpt.weights, prompt, options);
        QCOMPARE(r.tokens, expected);
        std::vector<int> all = prompt;
        all.insert(all.end(), r.tokens.begin(), r.tokens.end());
        QCOMPARE(tokenizer->decode(all), text);
    }

    void badRequestsGiveOneLine() {
        GenerateOptions options;
        options.maxTokens = 600;
        try {
            generateGreedy(m_ckpt.config, m_ckpt.weights, std::vector<std::int32_t>{1}, options);
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("exceed the model's context of 512"), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(Error, generateGreedy(m_ckpt.config, m_ckpt.weights, {}, {}));
    }

    // Every matrix and norm once and one embedding row, in bf16: worked out by hand from the
    // shapes (hidden 256, q 256, kv 64, ffn 768, vocab 4096, 6 layers).
    void weightBytesPerTokenCountsEveryWeightOnce() {
        const std::int64_t perLayer = (256 * 256 * 2 + 64 * 256 * 2 + 3 * 768 * 256 + 2 * 256) * 2;
        const std::int64_t expected = 6 * perLayer + 4096 * 256 * 2 + 256 * 2 + 256 * 2;
        QCOMPARE(weightBytesPerToken(m_ckpt.config, m_ckpt.weights), expected);
    }

    void speedIsMeasured() {
        SpeedOptions options;
        options.promptTokens = 16;
        options.generateTokens = 4;
        options.threads = 2;
        options.repetitions = 1;
        options.measureBandwidth = false;
        const SpeedResult r = measureSpeed(m_ckpt.config, m_ckpt.weights, options);
        QCOMPARE(r.threads, 2);
        QVERIFY(r.prefillTokensPerSecond > 0);
        QVERIFY(r.generateTokensPerSecond > 0);
        QCOMPARE(r.readBandwidth, 0.0);
    }

private:
    LlamaCheckpoint m_ckpt;
};

QTEST_GUILESS_MAIN(LlmGenerateTest)
#include "llm_generate_test.moc"
