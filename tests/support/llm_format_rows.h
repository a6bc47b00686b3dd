// The block-format rows of tests/fixtures/llm/EXPECTED.md (llama.cpp's llama-perplexity on
// kjv-llama-6m, every 2-D tensor in the format) and the check the block-format tests share:
// the workbench quantizes the bf16 weights itself and must land within 0.5 % of the
// perplexity and 5 % of the mean KL divergence.
#pragma once

#include <QtTest>
#include <cmath>
#include <string>

#include "core/llm/llm_compress.h"
#include "core/llm/perplexity.h"
#include "tests/support/llm_fixture.h"

namespace cwb::test {

struct FormatRow {
    const char* format;
    double bits;
    double perplexity;
    double kld;      // < 0: not given
    double sameTop;  // < 0: not given
};

inline constexpr FormatRow kFormatRows[] = {
    {"Q8_0", 8.5, 29.8525, 0.000145, 0.9908},   {"Q6_K", 6.5625, 29.8399, 0.000880, 0.9775},
    {"Q5_1", 6.0, 29.9326, 0.002764, 0.9617},   {"Q5_0", 5.5, 29.9407, 0.003766, 0.9600},
    {"Q5_K", 5.5, 29.9540, 0.002856, 0.9622},   {"Q4_K", 4.5, 30.0444, 0.009892, 0.9283},
    {"Q4_0", 4.5, 30.1626, -1.0, -1.0},         {"Q3_K", 3.4375, 30.8186, 0.046352, 0.8491},
    {"Q2_K", 2.625, 34.1847, 0.185599, 0.7290},
};

inline DType formatType(const char* name) {
    DType type = DType::F32;
    if (!parseDType(name, type)) throw std::runtime_error(std::string("unknown format ") + name);
    return type;
}

// Adds QTest rows "format" (index into kFormatRows) for the named formats.
inline void addFormatRows(std::initializer_list<const char*> names) {
    QTest::addColumn<int>("row");
    for (const char* name : names)
        for (int i = 0; i < int(std::size(kFormatRows)); ++i)
            if (std::string(kFormatRows[i].format) == name) QTest::newRow(name) << i;
}

// The original's log-probabilities over `chunks` chunks (0: all), for the KL divergence.
inline PerplexityReference recordOriginal(const LlamaCheckpoint& ckpt,
                                          const std::vector<std::int32_t>& tokens, int chunks) {
    PerplexityReference original;
    PerplexityOptions options;
    options.threads = 2;
    options.maxChunks = chunks;
    options.record = &original;
    measurePerplexity(ckpt.config, ckpt.weights, tokens, options);
    return original;
}

// Quantizes every 2-D tensor to the row's format and measures it against the recorded
// original. With chunks == 0 the figures must match the row; otherwise (the sanitizer build)
// the run only has to work.
inline void checkFormatRow(const FormatRow& row, const LlamaCheckpoint& ckpt,
                           const std::vector<std::int32_t>& tokens,
                           const PerplexityReference& original, int chunks) {
    LlmCompression c;
    c.format = formatType(row.format);
    c.scope = LlmScope::All;
    LlmCompressOptions compressOptions;
    compressOptions.threads = 2;
    compressOptions.stats.histograms = false;
    const LlmCompressionResult compressed =
        compressLlama(ckpt.config, ckpt.weights, c, compressOptions);
    QCOMPARE(compressed.bitsPerWeight, row.bits);

    PerplexityOptions options;
    options.threads = 2;
    options.maxChunks = chunks;
    options.recorded = &original;
    const PerplexityResult r = measurePerplexity(ckpt.config, compressed.weights, tokens, options);
    qInfo("%s: PPL %.4f (llama.cpp %.4f), KLD %.6f (%.6f), same top %.2f %% (%.2f %%), %.2f s",
          row.format, r.stats.perplexity, row.perplexity, r.stats.meanKl, row.kld,
          100 * r.stats.sameTop, 100 * row.sameTop, r.seconds);
    QVERIFY(r.stats.hasKl && r.stats.meanKl > 0);
    if (chunks) return;
    QVERIFY2(std::fabs(r.stats.perplexity / row.perplexity - 1) <= 0.005,
             "perplexity more than 0.5 % from llama.cpp's");
    if (row.kld > 0)
        QVERIFY2(std::fabs(r.stats.meanKl / row.kld - 1) <= 0.05,
                 "mean KL divergence more than 5 % from llama.cpp's");
}

// Chunks each block-format test scores: all in the normal build; two under the sanitizers,
// which check the memory handling (the figures are the normal build's).
#ifdef CWB_SANITIZER_BUILD
inline constexpr int kFormatChunks = 2;
#else
inline constexpr int kFormatChunks = 0;
#endif

// What both block-format test executables hold: kjv-llama-6m, the evaluation tokens and the
// original's recorded log-probabilities, loaded once in initTestCase.
struct FormatRowsFixture {
    LlamaCheckpoint checkpoint;
    std::vector<std::int32_t> tokens;
    PerplexityReference original;

    void load() {
        checkpoint = loadKjvSafetensors();
        tokens = revelationTokens();
        original = recordOriginal(checkpoint, tokens, kFormatChunks);
    }
    void check(int row) const {
        checkFormatRow(kFormatRows[row], checkpoint, tokens, original, kFormatChunks);
    }
};

}  // namespace cwb::test
