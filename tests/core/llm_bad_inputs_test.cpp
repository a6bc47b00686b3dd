// Hostile and broken language-model checkpoints, one row per kind, as bad_inputs_test.cpp
// does for the Keras readers: each file is made here (small, in the temp folder), opened
// through openLlamaCheckpoint, and must fail with one line that names the file and matches
// the row's pattern. README.md's "### Language-model checkpoints" table (under "## Bad
// inputs") must list the same rows.
#include <QtTest>
#include <filesystem>
#include <functional>
#include <sstream>

#include "core/error.h"
#include "core/io/llama_checkpoint.h"
#include "tests/support/llm_files.h"
#include "tests/support/readme_table.h"
#include "tests/support/test_paths.h"

using namespace cwb;
using namespace cwb::test::llm;
namespace fs = std::filesystem;

namespace {

struct Row {
    std::string kind;     // README's first column
    std::string pattern;  // README's second column: {N} a number, {*} any text
    std::function<std::string(const std::string& dir)> make;  // writes the file, returns its path
};

std::string write(const std::string& path, const std::string& bytes) {
    test::writeBytes(path, bytes);
    return path;
}

// `bytes` with a little-endian u64 written over position `at`.
std::string patchU64(std::string bytes, std::size_t at, std::uint64_t value) {
    std::memcpy(bytes.data() + at, &value, 8);
    return bytes;
}

// A GGUF holding one float32 tensor [8, 4] at data offset `offset` (and of `type`).
std::string oneTensorGguf(std::uint64_t offset, std::uint32_t type = 0) {
    return GgufBuilder()
        .text("general.architecture", "llama")
        .tensor("token_embd.weight", {8, 4}, type, floats(32, 1), offset)
        .build();
}

// A folder of the tiny Llama in Hugging Face form with this config.json.
std::string tinyHfFolder(const std::string& dir, const std::string& config) {
    fs::create_directories(dir);
    write(dir + "/config.json", config);
    write(dir + "/model.safetensors", tinySafetensors(tinyLlamaHfTensors()));
    return dir;
}

// The kjv fixture folder with its weights linked and an index of our choosing; shard 2 only
// when `secondShard`.
std::string kjvWithIndex(const std::string& dir, const std::string& index, bool secondShard) {
    const std::string from = test::llmFixture("kjv-llama-6m");
    fs::create_directories(dir);
    fs::copy_file(from + "/config.json", dir + "/config.json");
    write(dir + "/model.safetensors.index.json", index);
    for (int shard = 1; shard <= (secondShard ? 2 : 1); ++shard) {
        const std::string name = "/model-0000" + std::to_string(shard) + "-of-00002.safetensors";
        fs::create_symlink(from + name, dir + name);
    }
    return dir;
}

std::string kjvIndex() {
    return test::readBytes(test::llmFixture("kjv-llama-6m/model.safetensors.index.json"));
}

// The index with `entry` ("name": "shard") added first in its weight_map.
std::string kjvIndexWith(const std::string& entry) {
    std::string index = kjvIndex();
    const auto at = index.find("\"weight_map\": {") + 15;
    return index.insert(at, "\n    " + entry + ",");
}

const std::vector<Row>& rows() {
    static const std::vector<Row> all{
        {"GGUF claiming 2^60 tensors",
         "GGUF header claims {N} tensors but only {N} bytes follow; the file is truncated or "
         "corrupt",
         [](const std::string& dir) {
             return write(dir + "/tensors.gguf",
                          patchU64(tinyLlamaGguf().build(), 8, std::uint64_t(1) << 60));
         }},
        {"GGUF claiming 2^60 metadata entries",
         "GGUF header claims {N} metadata entries but only {N} bytes follow; the file is "
         "truncated or corrupt",
         [](const std::string& dir) {
             return write(dir + "/entries.gguf",
                          patchU64(tinyLlamaGguf().build(), 16, std::uint64_t(1) << 60));
         }},
        {"GGUF cut inside its header",
         "GGUF header is truncated at byte {N} ({*}); the file is truncated or corrupt",
         [](const std::string& dir) {
             return write(dir + "/cut.gguf", tinyLlamaGguf().build().substr(0, 20));
         }},
        {"GGUF string whose length runs past the end of the file",
         "GGUF string of {N} bytes at byte {N} ({*}) runs past the end of the file; the file is "
         "truncated or corrupt",
         [](const std::string& dir) {
             GgufBuilder g;
             g.raw("general.name", kString, GgufBuilder::bytes(std::uint64_t(1) << 62) + "x");
             return write(dir + "/string.gguf", g.build());
         }},
        {"GGUF array whose count runs past the end of the file",
         "GGUF array 'tokenizer.ggml.scores' claims {N} elements but only {N} bytes remain; the "
         "file is truncated or corrupt",
         [](const std::string& dir) {
             GgufBuilder g;
             g.raw("tokenizer.ggml.scores", kArray,
                   GgufBuilder::bytes(kF32) + GgufBuilder::bytes(std::uint64_t(1) << 40));
             return write(dir + "/array.gguf", g.build());
         }},
        {"GGUF arrays nested 100 deep",
         "GGUF array 'deep' nests arrays more than {N} deep; the file is corrupt",
         [](const std::string& dir) {
             std::string value;
             for (int i = 0; i < 100; ++i)
                 value += GgufBuilder::bytes(kArray) + GgufBuilder::bytes(std::uint64_t(1));
             value += GgufBuilder::bytes(kU8) + GgufBuilder::bytes(std::uint64_t(0));
             GgufBuilder g;
             g.raw("deep", kArray, value);
             return write(dir + "/nested.gguf", g.build());
         }},
        {"GGUF tensor whose offset lies past the end of the file",
         "GGUF tensor 'token_embd.weight' lies at bytes [{N}, {N}) of the data, past its end "
         "({N} bytes); the file is truncated or corrupt",
         [](const std::string& dir) {
             return write(dir + "/offset.gguf", oneTensorGguf(std::uint64_t(1) << 40));
         }},
        {"GGUF tensor data off its alignment",
         "GGUF tensor 'token_embd.weight' at data offset 4 is not aligned to 32 bytes; the file "
         "is corrupt",
         [](const std::string& dir) { return write(dir + "/misaligned.gguf", oneTensorGguf(4)); }},
        {"GGUF tensor of an unknown ggml type",
         "GGUF tensor 'token_embd.weight' has ggml type 99, which is not supported (supported: "
         "{*})",
         [](const std::string& dir) { return write(dir + "/type.gguf", oneTensorGguf(0, 99)); }},
        {"GGUF tensors sharing their bytes",
         "GGUF tensors 'a' and 'b' overlap in the data; the file is corrupt",
         [](const std::string& dir) {
             GgufBuilder g;
             g.tensor("a", {8}, 0, floats(8, 1), 0).tensor("b", {8}, 0, floats(8, 2), 0);
             return write(dir + "/overlap.gguf", g.build());
         }},
        {"GGUF version 1", "GGUF version 1 is not supported (only versions 2 and 3)",
         [](const std::string& dir) {
             return write(dir + "/v1.gguf", tinyLlamaGguf({}, {.version = 1}).build());
         }},
        {"GGUF of another architecture", "architecture 'qwen2' is not supported (only llama)",
         [](const std::string& dir) {
             return write(dir + "/qwen2.gguf", tinyLlamaGguf({}, {.arch = "qwen2"}).build());
         }},
        {"GGUF with a BPE tokenizer",
         "tokenizer 'gpt2' is not supported (only SentencePiece vocabularies, 'llama')",
         [](const std::string& dir) {
             return write(dir + "/gpt2.gguf", tinyLlamaGguf({}, {.tokenizer = "gpt2"}).build());
         }},
        {"GGUF tensor whose shape does not match the config",
         "tensor 'blk.0.ffn_gate.weight' has shape (16, 8), the config needs (32, 8)",
         [](const std::string& dir) {
             return write(dir + "/shape.gguf", tinyLlamaGguf({}, {.declaredInter = 32}).build());
         }},

        {"Hugging Face folder missing a shard",
         "model.safetensors.index.json: shard model-00002-of-00002.safetensors is missing from "
         "the folder",
         [](const std::string& dir) { return kjvWithIndex(dir + "/no_shard", kjvIndex(), false); }},
        {"Hugging Face index naming a tensor its shard does not hold",
         "model.safetensors.index.json: tensor 'model.layers.9.mlp.up_proj.weight' is listed in "
         "model-00001-of-00002.safetensors, which does not hold it; the checkpoint is incomplete "
         "or inconsistent",
         [](const std::string& dir) {
             return kjvWithIndex(dir + "/absent",
                                 kjvIndexWith(R"("model.layers.9.mlp.up_proj.weight": )"
                                              R"("model-00001-of-00002.safetensors")"),
                                 true);
         }},
        {"Hugging Face index naming a shard outside the folder",
         "shard name \"../../etc/passwd\" is not a file name inside the folder",
         [](const std::string& dir) {
             return kjvWithIndex(dir + "/escape",
                                 kjvIndexWith(R"("model.extra.weight": "../../etc/passwd")"), true);
         }},
        {"Hugging Face folder without weights",
         "has neither model.safetensors nor model.safetensors.index.json",
         [](const std::string& dir) {
             fs::create_directories(dir + "/empty");
             write(dir + "/empty/config.json", tinyLlamaHfConfig());
             return dir + "/empty";
         }},
        {"Hugging Face config.json that is not JSON", "config.json: malformed JSON ({*})",
         [](const std::string& dir) {
             return tinyHfFolder(dir + "/bad_json", R"({"architectures": ["LlamaForCausalLM"],)");
         }},
        {"Hugging Face config of another architecture",
         "architecture 'Qwen2ForCausalLM' is not supported (only LlamaForCausalLM and "
         "MistralForCausalLM)",
         [](const std::string& dir) {
             return tinyHfFolder(dir + "/qwen2", tinyLlamaHfConfig({}, "Qwen2ForCausalLM"));
         }},
        {"Hugging Face tensor whose shape does not match the config",
         "tensor 'model.layers.0.mlp.gate_proj.weight' has shape (16, 8), the config needs (32, "
         "8)",
         [](const std::string& dir) {
             return tinyHfFolder(dir + "/shape", tinyLlamaHfConfig({}, "LlamaForCausalLM", 32));
         }},

        {"llama2.c checkpoint cut short",
         "holds {N} bytes but its llama2.c header ({*}) needs {N}; the file is truncated or not "
         "a llama2.c checkpoint",
         [](const std::string& dir) {
             const std::string whole = tinyLlama2c();
             return write(dir + "/cut.bin", whole.substr(0, whole.size() - 4));
         }},
        {"llama2.c header with a negative size",
         "has an implausible llama2.c header: hidden size -8 is out of range (1 to {N})",
         [](const std::string& dir) {
             std::string bytes = tinyLlama2c();
             const std::int32_t negative = -8;
             std::memcpy(bytes.data(), &negative, 4);
             return write(dir + "/negative.bin", bytes);
         }},
        {"random bytes given as a checkpoint",
         "not a recognised language-model checkpoint (give a Hugging Face folder, a GGUF file or "
         "a llama2.c .bin)",
         [](const std::string& dir) {
             std::string bytes(4096, '\0');
             for (std::size_t i = 0; i < bytes.size(); ++i)
                 bytes[i] = char((i * 2654435761u) >> 13);
             return write(dir + "/random.model", bytes);
         }},
    };
    return all;
}

}  // namespace

class LlmBadInputsTest : public QObject {
    Q_OBJECT
private slots:
    void cleanupTestCase() { fs::remove_all(test::tempDir()); }

    void failsWithOneClearLine_data() {
        QTest::addColumn<int>("row");
        for (std::size_t i = 0; i < rows().size(); ++i)
            QTest::newRow(rows()[i].kind.c_str()) << int(i);
    }
    void failsWithOneClearLine() {
        QFETCH(int, row);
        const Row& bad = rows()[static_cast<std::size_t>(row)];
        const std::string path = bad.make(test::tempDir());
        try {
            openLlamaCheckpoint(path);
            QFAIL(("accepted: " + path).c_str());
        } catch (const Error& e) {
            const std::string message = e.what();
            QVERIFY2(message.find('\n') == std::string::npos, message.c_str());
            QVERIFY2(message.rfind(path, 0) == 0,
                     ("does not start with the file: " + message).c_str());
            QVERIFY2(std::regex_search(message, test::patternRegex(bad.pattern)),
                     ("'" + message + "' does not match '" + bad.pattern + "'").c_str());
        }
    }

    // README.md must list exactly these rows, in this order; when it does not, the table it
    // should hold is written to llm_bad_inputs_table.md here.
    void readmeTableMatchesTheRows() {
        std::ostringstream expected;
        std::vector<std::pair<std::string, std::string>> wanted;
        for (const auto& r : rows()) {
            expected << "| " << r.kind << " | `" << r.pattern << "` |\n";
            wanted.emplace_back(r.kind, r.pattern);
        }
        if (test::readmeTableRows(std::string(CWB_SOURCE_DIR) + "/README.md",
                                  "### Language-model checkpoints") != wanted) {
            const auto file = fs::current_path() / "llm_bad_inputs_table.md";
            std::ofstream(file) << expected.str();
            QFAIL(("README.md's \"### Language-model checkpoints\" table differs from the test "
                   "rows; the rows it should have are in " +
                   file.string())
                      .c_str());
        }
    }
};

QTEST_APPLESS_MAIN(LlmBadInputsTest)
#include "llm_bad_inputs_test.moc"
