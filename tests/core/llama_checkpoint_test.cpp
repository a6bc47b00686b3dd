// The language-model checkpoint readers on the fixtures of tests/fixtures/llm: the configs
// EXPECTED.md states, every tensor's name, dtype and shape, and values checked against
// figures dumped from the files by an independent Python parser (struct-level reads of the
// safetensors JSON header, the GGUF header and llama2.c's array order).
#include "core/io/llama_checkpoint.h"

#include <QtTest>
#include <bit>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/io/gguf.h"
#include "core/io/hf_checkpoint.h"
#include "core/llm/checkpoint_info.h"
#include "core/llm/checkpoint_tokenizer.h"
#include "core/llm/synthetic_checkpoint.h"
#include "core/util/mapped_file.h"
#include "tests/support/llm_files.h"
#include "tests/support/test_paths.h"

using namespace cwb;

namespace {

std::string kjvFolder() { return test::llmFixture("kjv-llama-6m"); }
std::string gguf(const std::string& type) {
    return test::llmFixture("kjv-llama-6m." + type + ".gguf");
}
std::string aidreams() { return test::llmFixture("aidreams260K/aidreams260K.bin"); }

float bf16At(const Tensor& t, std::int64_t row, std::int64_t col) {
    std::uint16_t h;
    std::memcpy(&h, t.bytes() + 2 * (row * t.shape()[1] + col), 2);
    return std::bit_cast<float>(std::uint32_t(h) << 16);
}
float f32At(const Tensor& t, std::int64_t index) {
    float v;
    std::memcpy(&v, t.bytes() + 4 * index, 4);
    return v;
}
// IEEE half to float, written here independently of the dtype code under test.
float halfToFloat(std::uint16_t h) {
    const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    const float sign = (h & 0x8000) ? -1.0f : 1.0f;
    if (exponent == 0) return sign * std::ldexp(float(mantissa), -24);
    return sign * std::ldexp(float(mantissa | 0x400), exponent - 25);
}

void checkKjvConfig(const LlamaConfig& c) {
    QCOMPARE(c.architecture, std::string("llama"));
    QCOMPARE(c.hiddenSize, 256);
    QCOMPARE(c.layers, 6);
    QCOMPARE(c.heads, 8);
    QCOMPARE(c.kvHeads, 2);
    QCOMPARE(c.headDim, 32);
    QCOMPARE(c.intermediateSize, 768);
    QCOMPARE(c.vocabSize, 4096);
    QCOMPARE(c.maxSequence, 512);
    QVERIFY(std::abs(c.rmsNormEps - 1e-5f) < 1e-9f);
    QCOMPARE(c.ropeTheta, 10000.0f);
    QVERIFY(!c.tiedEmbeddings);
}

}  // namespace

class LlamaCheckpointTest : public QObject {
    Q_OBJECT
private slots:
    // The folder, its config.json, its index and either shard all open the same checkpoint.
    void huggingFaceFolder_data() {
        QTest::addColumn<QString>("path");
        for (const char* name :
             {"", "/config.json", "/model.safetensors.index.json",
              "/model-00001-of-00002.safetensors", "/model-00002-of-00002.safetensors"})
            QTest::newRow(*name ? name : "folder") << QString::fromStdString(kjvFolder() + name);
    }
    void huggingFaceFolder() {
        QFETCH(QString, path);
        const LlamaCheckpoint c = openLlamaCheckpoint(path.toStdString());
        QCOMPARE(c.format, std::string("Hugging Face safetensors"));
        QCOMPARE(c.path, path.toStdString());
        checkKjvConfig(c.config);
        QCOMPARE(c.config.rope, RopeLayout::RotateHalf);
        QCOMPARE(c.tokenizerModelPath, kjvFolder() + "/tokenizer.model");
        QCOMPARE(c.tensors.size(), std::size_t(57));  // 32 + 25 in the two shards
        for (const NamedTensor& t : c.tensors) QCOMPARE(t.tensor.dtype(), DType::BF16);

        const LlamaWeights& w = c.weights;
        QCOMPARE(w.blocks.size(), std::size_t(6));
        QCOMPARE(w.embedding.shape(), (Shape{4096, 256}));
        QCOMPARE(w.blocks[0].q.shape(), (Shape{256, 256}));
        QCOMPARE(w.blocks[0].k.shape(), (Shape{64, 256}));
        QCOMPARE(w.blocks[5].down.shape(), (Shape{256, 768}));
        QCOMPARE(w.blocks[5].gate.shape(), (Shape{768, 256}));
        QCOMPARE(w.finalNorm.shape(), (Shape{256}));
        QVERIFY(w.output.bytes() != w.embedding.bytes());  // untied: lm_head of shard 2

        // Figures from the files by Python.
        const float embedding[8] = {0.001983642578125f, -0.022216796875f,   0.01104736328125f,
                                    0.00909423828125f,  -0.00457763671875f, -0.01513671875f,
                                    0.005859375f,       0.027099609375f};
        for (int i = 0; i < 8; ++i) QCOMPARE(bf16At(w.embedding, 100, i), embedding[i]);
        QCOMPARE(bf16At(w.blocks[0].q, 3, 7), -0.059326171875f);
        QCOMPARE(bf16At(w.blocks[0].k, 3, 7), -0.0137939453125f);
        QCOMPARE(bf16At(w.blocks[0].down, 3, 7), 0.004730224609375f);
        QCOMPARE(bf16At(w.output, 4095, 0), -0.13671875f);
        QCOMPARE(bf16At(w.output, 4095, 2), 0.09521484375f);
        const std::vector<float> norm = w.finalNorm.toFloatVector();
        QCOMPARE(norm[0], 1.2578125f);
        QCOMPARE(norm[3], 1.4140625f);

        // model.safetensors.index.json: total_parameters 6622464, total_size 13244928.
        const CheckpointInfo info = describeCheckpoint(c);
        QCOMPARE(info.elements, std::uint64_t(6622464));
        QCOMPARE(info.bytes, std::uint64_t(13244928));
        QCOMPARE(info.byDType.size(), std::size_t(1));
        QCOMPARE(info.bitsPerWeight, 16.0);
    }

    void ggufFiles_data() {
        QTest::addColumn<QString>("type");
        QTest::addColumn<int>("dtype");
        QTest::addColumn<qulonglong>("dataBytes");  // file size less the data offset 95552
        QTest::addColumn<QByteArray>("row100");     // token_embd row 100's first bytes
        QTest::newRow("Q8_0") << "Q8_0" << int(DType::Q8_0) << qulonglong(7141696 - 95552)
                              << QByteArray("\xd6\x0e\x05\xcb\x1a\x16\xf5\xdc", 8);
        QTest::newRow("Q4_0") << "Q4_0" << int(DType::Q4_0) << qulonglong(3832128 - 95552)
                              << QByteArray("\xc8\x9e\x88\x9b\x86\x47\x99\x7a", 8);
        QTest::newRow("Q4_K") << "Q4_K" << int(DType::Q4_K) << qulonglong(3832128 - 95552)
                              << QByteArray("\xf1\x05\xf7\x11\xbe\xff\xf0\xfa", 8);
        QTest::newRow("Q2_K") << "Q2_K" << int(DType::Q2_K) << qulonglong(2280768 - 95552)
                              << QByteArray("\x7d\xa9\xff\xcd\xaa\x9b\xde\x99", 8);
    }
    void ggufFiles() {
        QFETCH(QString, type);
        QFETCH(int, dtype);
        QFETCH(qulonglong, dataBytes);
        QFETCH(QByteArray, row100);
        const std::string path = gguf(type.toStdString());
        const LlamaCheckpoint c = openLlamaCheckpoint(path);
        QCOMPARE(c.format, std::string("GGUF v3"));
        checkKjvConfig(c.config);
        QCOMPARE(c.config.rope, RopeLayout::AdjacentPairs);
        QCOMPARE(c.tensors.size(), std::size_t(57));
        QCOMPARE(c.tensors.front().name, std::string("output.weight"));  // the file's order
        for (const NamedTensor& t : c.tensors)
            QCOMPARE(t.tensor.dtype(), t.tensor.shape().size() == 1 ? DType::F32 : DType(dtype));

        const LlamaWeights& w = c.weights;
        QCOMPARE(w.embedding.shape(), (Shape{4096, 256}));  // GGUF ne [256, 4096]
        QCOMPARE(w.blocks[0].k.shape(), (Shape{64, 256}));
        QCOMPARE(w.blocks[0].o.shape(), (Shape{256, 256}));
        QCOMPARE(w.blocks[0].down.shape(), (Shape{256, 768}));  // ne [768, 256]
        QCOMPARE(w.blocks[0].up.shape(), (Shape{768, 256}));
        QCOMPARE(w.output.shape(), (Shape{4096, 256}));
        QVERIFY(w.output.bytes() != w.embedding.bytes());

        const std::size_t rowBytes = w.embedding.byteSize() / 4096;
        QCOMPARE(QByteArray(reinterpret_cast<const char*>(w.embedding.bytes()) + 100 * rowBytes, 8),
                 row100);

        const CheckpointInfo info = describeCheckpoint(c);
        QCOMPARE(info.elements, std::uint64_t(6622464));
        QCOMPARE(info.bytes, std::uint64_t(dataBytes));
        QCOMPARE(info.byDType.size(), std::size_t(2));

        const Vocabulary& v = c.vocabulary;
        QCOMPARE(v.pieces.size(), std::size_t(4096));
        QCOMPARE(v.scores.size(), std::size_t(4096));
        QCOMPARE(v.bos, 1);
        QCOMPARE(v.eos, 2);
        QCOMPARE(v.unknown, 0);
        QVERIFY(v.addSpacePrefix);
        QCOMPARE(v.pieces[1], std::string("<s>"));
        QCOMPARE(v.pieces[3], std::string("<0x00>"));
        QCOMPARE(v.pieces[259], std::string("\xe2\x96\x81t"));
        QCOMPARE(v.kinds[0], PieceKind::Unknown);
        QCOMPARE(v.kinds[2], PieceKind::Control);
        QCOMPARE(v.kinds[258], PieceKind::Byte);
        QCOMPARE(v.kinds[259], PieceKind::Normal);
        QCOMPARE(v.scores[300], -41.0f);
        QCOMPARE(v.scores[4095], -3836.0f);
    }

    // The Q8_0 embedding, decoded by hand (d * q per block of 32), against the bf16 weights
    // it was quantized from: within half a quantization step, plus the rounding of the step
    // d = max|x| / 127 to float16 (up to 2^-11 relative, times |q| <= 127).
    void ggufQ8RowMatchesTheSafetensorsRow() {
        const LlamaCheckpoint q8 = openLlamaCheckpoint(gguf("Q8_0"));
        const LlamaCheckpoint hf = openLlamaCheckpoint(kjvFolder());
        for (int row : {0, 100, 4095}) {
            const std::byte* blocks = q8.weights.embedding.bytes() + row * 8 * 34;
            for (int b = 0; b < 8; ++b) {
                std::uint16_t dBits;
                std::memcpy(&dBits, blocks + b * 34, 2);
                const float d = halfToFloat(dBits);
                for (int j = 0; j < 32; ++j) {
                    const auto q = static_cast<std::int8_t>(blocks[b * 34 + 2 + j]);
                    const float original = bf16At(hf.weights.embedding, row, b * 32 + j);
                    QVERIFY2(std::abs(d * q - original) <= d * (0.5f + 127.0f / 2048.0f),
                             qPrintable(QString("row %1 column %2: %3 vs %4")
                                            .arg(row)
                                            .arg(b * 32 + j)
                                            .arg(d * q)
                                            .arg(original)));
                }
            }
        }
    }

    // The vocabulary a GGUF file embeds encodes text as tokenizer.model beside the Hugging
    // Face folder does (libsentencepiece), through loadCheckpointTokenizer.
    void ggufVocabularyEncodesAsTheFolderTokenizer() {
        const std::string text = "And the Lord said unto him, Go up \xc2\xa3 42.";
        const auto fromGguf = loadCheckpointTokenizer(openLlamaCheckpoint(gguf("Q4_K")));
        const auto fromFolder = loadCheckpointTokenizer(openLlamaCheckpoint(kjvFolder()));
        const std::vector<int> ids = fromFolder->encode(text, true);
        QVERIFY(ids.size() > 8);
        QCOMPARE(fromGguf->encode(text, true), ids);
    }

    void llama2c() {
        const LlamaCheckpoint c = openLlamaCheckpoint(aidreams());
        QCOMPARE(c.format, std::string("llama2.c"));
        const LlamaConfig& k = c.config;
        QCOMPARE(k.hiddenSize, 64);
        QCOMPARE(k.intermediateSize, 172);
        QCOMPARE(k.layers, 4);
        QCOMPARE(k.heads, 4);
        QCOMPARE(k.kvHeads, 4);
        QCOMPARE(k.headDim, 16);
        QCOMPARE(k.vocabSize, 512);
        QCOMPARE(k.maxSequence, 128);
        QVERIFY(k.tiedEmbeddings);
        QCOMPARE(k.rope, RopeLayout::AdjacentPairs);
        // tok512.bin beside it, read by the tokenizer module; figures from the file by Python.
        QCOMPARE(c.vocabulary.pieces.size(), std::size_t(512));
        QCOMPARE(c.vocabulary.pieces[300], std::string("ke"));
        QCOMPARE(c.vocabulary.scores[300], -41.0f);
        QCOMPARE(c.vocabulary.scores[511], -252.0f);
        QCOMPARE(c.vocabulary.bos, 1);

        QCOMPARE(c.tensors.size(), std::size_t(13));
        QCOMPARE(c.tensors[2].name, std::string("wq"));
        QCOMPARE(c.tensors[2].tensor.shape(), (Shape{4, 64, 64}));
        QCOMPARE(c.tensors[8].name, std::string("w2"));
        QCOMPARE(c.tensors[8].tensor.shape(), (Shape{4, 64, 172}));
        QCOMPARE(c.tensors[12].name, std::string("freq_cis_imag"));
        std::uint64_t bytes = 0;
        for (const NamedTensor& t : c.tensors) bytes += t.tensor.byteSize();
        QCOMPARE(bytes, std::uint64_t(932124 - 28));

        const LlamaWeights& w = c.weights;
        QCOMPARE(w.output.bytes(), w.embedding.bytes());
        QCOMPARE(w.blocks[2].gate.shape(), (Shape{172, 64}));
        QCOMPARE(w.blocks[3].down.shape(), (Shape{64, 172}));
        // Figures from the file by Python.
        QCOMPARE(f32At(w.embedding, 0), 0.10804883390665054f);
        QCOMPARE(f32At(w.embedding, 511 * 64 + 63), -0.11452662199735641f);
        QCOMPARE(f32At(w.blocks[1].q, 2 * 64 + 3), 0.17509843409061432f);
        QCOMPARE(f32At(w.blocks[3].down, 5 * 172 + 170), -0.02202184870839119f);
        QCOMPARE(f32At(w.blocks[2].gate, 171 * 64), -0.11811614781618118f);
        QCOMPARE(f32At(w.blocks[3].k, 63 * 64 + 63), 0.030874300748109818f);
        QCOMPARE(f32At(w.blocks[2].attnNorm, 10), 1.1726560592651367f);
        QCOMPARE(f32At(w.finalNorm, 1), 1.326244592666626f);
        // run.c's RoPE tables: cos(1) and sin(1 * 10000^(-2/16)).
        QVERIFY(std::abs(f32At(c.tensors[11].tensor, 8) - std::cos(1.0f)) < 1e-6f);
        QVERIFY(std::abs(f32At(c.tensors[12].tensor, 9) - std::sin(std::pow(10000.0f, -0.125f))) <
                1e-6f);
        QCOMPARE(findLlama2cTokenizer(aidreams()), test::llmFixture("aidreams260K/tok512.bin"));
        const LlamaCheckpoint named =
            openLlamaCheckpoint(aidreams(), test::llmFixture("aidreams260K/tok512.bin"));
        QCOMPARE(named.vocabulary.pieces, c.vocabulary.pieces);
    }

    // The tiny builders' files, also the fuzz seeds: a tied GGUF v2, and an unshared
    // llama2.c classifier.
    void tinyFiles() {
        const std::string dir = test::tempDir();
        test::llm::GgufBuilder g = test::llm::tinyLlamaGguf({}, {.version = 2});
        test::writeBytes(dir + "/tiny.gguf", g.build());
        LlamaCheckpoint c = openLlamaCheckpoint(dir + "/tiny.gguf");
        QCOMPARE(c.format, std::string("GGUF v2"));
        QCOMPARE(c.config.headDim, 4);
        QCOMPARE(c.vocabulary.pieces.size(), std::size_t(4));
        QCOMPARE(c.vocabulary.scores[3], -3.0f);

        test::writeBytes(dir + "/tiny.bin", test::llm::tinyLlama2c({}, true));
        c = openLlamaCheckpoint(dir + "/tiny.bin");
        QVERIFY(!c.config.tiedEmbeddings);
        QCOMPARE(c.tensors.back().name, std::string("wcls"));
        QVERIFY(c.weights.output.bytes() != c.weights.embedding.bytes());
        // No .bin suffix: told by its header.
        test::writeBytes(dir + "/tiny.checkpoint", test::llm::tinyLlama2c());
        QCOMPARE(openLlamaCheckpoint(dir + "/tiny.checkpoint").format, std::string("llama2.c"));
    }

    // config.json as transformers 4 (rope_theta at the top level) and 5 (rope_parameters)
    // write it, Mistral's, and the defaults of absent or null fields.
    void huggingFaceConfigs_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("architecture");
        QTest::addColumn<int>("kvHeads");
        QTest::addColumn<int>("headDim");
        QTest::addColumn<float>("theta");
        QTest::addColumn<float>("eps");
        QTest::addColumn<bool>("tied");
        const QString base = R"("hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
            "num_attention_heads": 4, "vocab_size": 32)";
        QTest::newRow("transformers 4")
            << R"({"architectures": ["LlamaForCausalLM"], )" + base +
                   R"(, "num_key_value_heads": 2, "rope_theta": 500000.0,
            "rms_norm_eps": 1e-05, "tie_word_embeddings": true})"
            << "llama" << 2 << 16 << 500000.0f << 1e-5f << true;
        QTest::newRow("transformers 5") << R"({"architectures": ["LlamaForCausalLM"], )" + base +
                                               R"(, "head_dim": 32, "rope_parameters":
            {"rope_theta": 1000.0, "rope_type": "default"}})"
                                        << "llama" << 4 << 32 << 1000.0f << 1e-6f << false;
        QTest::newRow("mistral") << R"({"architectures": ["MistralForCausalLM"], )" + base +
                                        R"(, "head_dim": null, "num_key_value_heads": null,
            "sliding_window": 4096, "rope_scaling": null})"
                                 << "mistral" << 4 << 16 << 10000.0f << 1e-6f << false;
    }
    void huggingFaceConfigs() {
        QFETCH(QString, json);
        QFETCH(QString, architecture);
        QFETCH(int, kvHeads);
        QFETCH(int, headDim);
        QFETCH(float, theta);
        QFETCH(float, eps);
        QFETCH(bool, tied);
        const LlamaConfig c = parseHfLlamaConfig(json.toStdString(), "config.json");
        QCOMPARE(QString::fromStdString(c.architecture), architecture);
        QCOMPARE(c.hiddenSize, 64);
        QCOMPARE(c.layers, 2);
        QCOMPARE(c.kvHeads, kvHeads);
        QCOMPARE(c.headDim, headDim);
        QCOMPARE(c.ropeTheta, theta);
        QCOMPARE(c.rmsNormEps, eps);
        QCOMPARE(c.tiedEmbeddings, tied);
    }

    // A tied checkpoint without lm_head.weight, read from memory: the output is the embedding.
    void huggingFaceTiedFromMemory() {
        auto tensors = test::llm::tinyLlamaHfTensors();
        tensors.pop_back();  // lm_head.weight
        const std::string bytes = test::llm::tinySafetensors(tensors);
        std::string config = test::llm::tinyLlamaHfConfig();
        config.replace(config.rfind("false"), 5, "true");  // tie_word_embeddings
        const auto open = [&](const std::string& name) -> std::shared_ptr<Storage> {
            if (name != "model.safetensors") return nullptr;
            auto storage = std::make_shared<OwnedStorage>(bytes.size());
            std::memcpy(storage->mutableData(), bytes.data(), bytes.size());
            return storage;
        };
        const LlamaCheckpoint c = readHfCheckpoint("tiny", config, std::nullopt, open);
        QVERIFY(c.config.tiedEmbeddings);
        QCOMPARE(c.tensors.size(), tensors.size());
        QCOMPARE(c.weights.output.bytes(), c.weights.embedding.bytes());
        QCOMPARE(c.weights.blocks[0].k.shape(), (Shape{4, 8}));
    }

    // What `cwb synth` writes opens as the shape it was asked for, in several shards.
    void syntheticFolder() {
        const std::string dir = test::tempDir() + "/synth-small";
        SyntheticCheckpointOptions options;
        options.shardBytes = 4'000'000;
        const LlamaConfig shape = syntheticShape("small");
        writeSyntheticCheckpoint(shape, dir, options, Progress{});
        const LlamaCheckpoint c = openLlamaCheckpoint(dir);
        QCOMPARE(c.config.hiddenSize, shape.hiddenSize);
        QCOMPARE(c.config.layers, shape.layers);
        QCOMPARE(c.config.kvHeads, shape.kvHeads);
        QCOMPARE(c.config.vocabSize, shape.vocabSize);
        QCOMPARE(describeCheckpoint(c).bytes, syntheticCheckpointBytes(shape));
    }

    // GGUF metadata of every value type, nested arrays included, read back by type.
    void ggufMetadataTypes() {
        using namespace test::llm;
        GgufBuilder g;
        std::string nested;  // an array of two arrays of u8
        put<std::uint32_t>(nested, kArray);
        put<std::uint64_t>(nested, 2);
        for (int i = 0; i < 2; ++i) {
            put<std::uint32_t>(nested, kU8);
            put<std::uint64_t>(nested, 3);
            nested += "abc";
        }
        g.raw("u8", 0, "\xff")
            .raw("i8", 1, "\xff")
            .raw("u16", 2, GgufBuilder::bytes<std::uint16_t>(65535))
            .raw("i16", 3, GgufBuilder::bytes<std::int16_t>(-300))
            .u32("u32", 4000000000u)
            .raw("i32", 5, GgufBuilder::bytes<std::int32_t>(-5))
            .f32("f32", 0.5f)
            .boolean("bool", true)
            .text("string", "text")
            .raw("u64", 10, GgufBuilder::bytes<std::uint64_t>(1ull << 40))
            .raw("i64", 11, GgufBuilder::bytes<std::int64_t>(-(1ll << 40)))
            .raw("f64", 12, GgufBuilder::bytes<double>(0.25))
            .raw("nested", kArray, nested)
            .numbers<std::int32_t>("ints", kI32, {3, -4});
        const std::string path = test::tempDir() + "/types.gguf";
        test::writeBytes(path, g.build());
        const GgufFile f = GgufFile::parse(mapFile(path), path);
        QCOMPARE(*f.integer("u8"), std::int64_t(255));
        QCOMPARE(*f.integer("i8"), std::int64_t(-1));
        QCOMPARE(*f.integer("u16"), std::int64_t(65535));
        QCOMPARE(*f.integer("i16"), std::int64_t(-300));
        QCOMPARE(*f.integer("u32"), std::int64_t(4000000000ll));
        QCOMPARE(*f.integer("i32"), std::int64_t(-5));
        QCOMPARE(*f.number("f32"), 0.5);
        QCOMPARE(*f.boolean("bool"), true);
        QCOMPARE(*f.text("string"), std::string("text"));
        QCOMPARE(*f.integer("u64"), std::int64_t(1) << 40);
        QCOMPARE(*f.integer("i64"), -(std::int64_t(1) << 40));
        QCOMPARE(*f.number("f64"), 0.25);
        QCOMPARE(f.arrayCount("nested"), std::uint64_t(2));
        QCOMPARE(f.numberArray("ints"), (std::vector<double>{3, -4}));
        QVERIFY(!f.integer("absent"));
        QVERIFY_THROWS_EXCEPTION(Error, f.integer("string"));
        QVERIFY_THROWS_EXCEPTION(Error, f.textArray("nested"));
    }
};

QTEST_APPLESS_MAIN(LlamaCheckpointTest)
#include "llama_checkpoint_test.moc"
