// The GGUF writer against files llama.cpp wrote: kjv-llama-6m's bf16 folder quantized by the
// workbench and written by writeLlamaGguf must equal, tensor for tensor and byte for byte,
// what convert_hf_to_gguf.py + llama-quantize --pure made of the same model (the fixtures
// kjv-llama-6m.{Q8_0,Q4_0,Q4_K}.gguf): the same names, shapes, types, q/k rows permuted to
// llama.cpp's RoPE layout, the same blocks, and the same vocabulary. Read back by our own
// reader, the Q8_0 file scores llama-perplexity's perplexity (tests/fixtures/llm/EXPECTED.md).
#include <QtTest>
#include <filesystem>

#include "core/error.h"
#include "core/io/gguf.h"
#include "core/io/gguf_llama_writer.h"
#include "core/io/llama_checkpoint.h"
#include "core/llm/checkpoint_tokenizer.h"
#include "core/llm/llm_compress.h"
#include "core/llm/perplexity.h"
#include "core/util/mapped_file.h"
#include "tests/support/llm_fixture.h"

using namespace cwb;
using namespace cwb::test;

namespace {

#ifdef CWB_SANITIZER_BUILD
constexpr int kChunks = 2;  // the memory handling; the figure is the normal build's
#else
constexpr int kChunks = 0;
#endif

std::string writeQuantized(const LlamaCheckpoint& hf, DType format, const std::string& name) {
    LlmCompression c;
    c.format = format;
    c.scope = LlmScope::All;  // as llama-quantize --pure
    LlmCompressOptions options;
    options.threads = 2;
    options.stats.histograms = false;
    const LlmCompressionResult result = compressLlama(hf.config, hf.weights, c, options);
    const std::string path = tempDir() + "/" + name;
    std::filesystem::remove(path);
    writeLlamaGguf(path, hf.config, result.weights, kjvTokenizer()->vocabulary(),
                   {"kjv-llama-6m", format, {}});
    return path;
}

GgufFile parse(const std::string& path) { return GgufFile::parse(mapFile(path), path); }

}  // namespace

class GgufWriterTest : public QObject {
    Q_OBJECT
private slots:
    void quantizedFolderEqualsLlamaQuantize_data() {
        QTest::addColumn<QString>("format");
        QTest::newRow("Q8_0") << "Q8_0";
        QTest::newRow("Q4_0") << "Q4_0";
        QTest::newRow("Q4_K") << "Q4_K";
    }
    void quantizedFolderEqualsLlamaQuantize() {
        QFETCH(QString, format);
        DType type;
        QVERIFY(parseDType(format.toStdString(), type));
        const LlamaCheckpoint hf = loadKjvSafetensors();
        const std::string path = writeQuantized(hf, type, "kjv." + format.toStdString() + ".gguf");
        const GgufFile mine = parse(path);
        const GgufFile theirs = parse(llmFixture("kjv-llama-6m." + format.toStdString() + ".gguf"));
        QCOMPARE(mine.version(), 3u);
        QCOMPARE(mine.tensorInfos().size(), theirs.tensorInfos().size());
        for (const GgufTensorInfo& t : theirs.tensorInfos()) {
            const auto it = std::find_if(mine.tensorInfos().begin(), mine.tensorInfos().end(),
                                         [&](const GgufTensorInfo& m) { return m.name == t.name; });
            QVERIFY2(it != mine.tensorInfos().end(), t.name.c_str());
            QVERIFY2(it->shape == t.shape, t.name.c_str());
            QVERIFY2(it->dtype == t.dtype, t.name.c_str());
            QCOMPARE(it->bytes, t.bytes);
            QVERIFY2(std::memcmp(mine.tensor(*it).bytes(), theirs.tensor(t).bytes(), t.bytes) == 0,
                     (t.name + " differs").c_str());
        }
        for (const char* key : {"tokenizer.ggml.tokens"})
            QVERIFY(mine.textArray(key) == theirs.textArray(key));
        for (const char* key : {"tokenizer.ggml.scores", "tokenizer.ggml.token_type"})
            QVERIFY2(mine.numberArray(key) == theirs.numberArray(key), key);
        for (const char* key :
             {"llama.block_count", "llama.context_length", "llama.embedding_length",
              "llama.feed_forward_length", "llama.attention.head_count",
              "llama.attention.head_count_kv", "llama.rope.dimension_count",
              "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"})
            QVERIFY2(mine.integer(key) == theirs.integer(key), key);
        QCOMPARE(mine.number("llama.attention.layer_norm_rms_epsilon"),
                 theirs.number("llama.attention.layer_norm_rms_epsilon"));
        QCOMPARE(mine.integer("general.file_type"), theirs.integer("general.file_type"));
    }

    // Our reader on our file: llama-perplexity's 29.8525 for Q8_0 (within EXPECTED.md's 0.5 %).
    void writtenQ8_0ScoresLlamaPerplexity() {
        const LlamaCheckpoint hf = loadKjvSafetensors();
        const std::string path = writeQuantized(hf, DType::Q8_0, "kjv.ppl.Q8_0.gguf");
        const LlamaCheckpoint back = openLlamaCheckpoint(path);
        QCOMPARE(back.config.rope, RopeLayout::AdjacentPairs);
        QCOMPARE(back.weights.blocks[3].down.dtype(), DType::Q8_0);
        const auto tokens = loadCheckpointTokenizer(back)->encode(
            readBytes(llmFixture("eval_revelation.txt")), true);
        QVERIFY(tokens == revelationTokens());  // the written vocabulary encodes the same
        PerplexityOptions options;
        options.threads = 2;
        options.maxChunks = kChunks;
        const PerplexityResult r = measurePerplexity(back.config, back.weights, tokens, options);
        qInfo("perplexity of the written Q8_0 file: %.4f", r.stats.perplexity);
        if (kChunks == 0) QVERIFY(std::fabs(r.stats.perplexity / 29.8525 - 1) < 0.005);
    }

    // A model with more token rows than its tokenizer has pieces (cwb synth's shapes) gets
    // unused pieces, so that llama.cpp finds one per row; more pieces than rows is an error.
    void vocabularyIsPaddedOrRefused() {
        const LlamaCheckpoint hf = loadKjvSafetensors();
        Vocabulary shortened = kjvTokenizer()->vocabulary();
        shortened.pieces.resize(4000);
        shortened.scores.resize(4000);
        shortened.kinds.resize(4000);
        const std::string padded = tempDir() + "/kjv.padded.gguf";
        std::filesystem::remove(padded);
        writeLlamaGguf(padded, hf.config, hf.weights, shortened);
        const GgufFile file = parse(padded);
        const std::vector<std::string> pieces = file.textArray("tokenizer.ggml.tokens");
        QCOMPARE(pieces.size(), std::size_t(4096));
        QCOMPARE(pieces[3999], shortened.pieces[3999]);
        QCOMPARE(pieces[4095], std::string("[PAD4095]"));
        QCOMPARE(file.numberArray("tokenizer.ggml.token_type")[4000], 5.0);  // unused

        Vocabulary v = kjvTokenizer()->vocabulary();
        v.pieces.push_back("extra");
        v.scores.push_back(0);
        v.kinds.push_back(PieceKind::Normal);
        const std::string path = tempDir() + "/kjv.refused.gguf";
        std::filesystem::remove(path);
        QVERIFY_THROWS_EXCEPTION(Error, writeLlamaGguf(path, hf.config, hf.weights, v));
        QVERIFY(!std::filesystem::exists(path));
        QVERIFY_THROWS_EXCEPTION(Error, writeLlamaGguf(path, hf.config, hf.weights, {}));
    }
};

QTEST_GUILESS_MAIN(GgufWriterTest)
#include "gguf_writer_test.moc"
