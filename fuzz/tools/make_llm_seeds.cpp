// Writes the seed corpora of the language-model readers (fuzz/seeds/gguf, hf, llama2c):
// tiny but complete checkpoints from tests/support/llm_files.h, a GGUF of every tensor type
// and one of every metadata type, and the kjv fixture's own config.json and index (the real
// shards are megabytes: the fuzzers are meant for headers and metadata, so none is copied).
// Run by hand:  build/fuzz/make_llm_seeds tests/fixtures/llm fuzz/seeds
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "tests/support/llm_files.h"

namespace fs = std::filesystem;
using namespace cwb::test::llm;

namespace {

void write(const fs::path& path, const std::string& bytes) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    return {std::istreambuf_iterator<char>(in), {}};
}

// One tensor of each type the GGUF reader takes (ggml ids), one block row each, zeros.
std::string everyTensorType() {
    struct Type {
        const char* name;
        std::uint32_t id, block, bytes;
    };
    const Type types[] = {{"f32", 0, 1, 4},       {"f16", 1, 1, 2},       {"bf16", 30, 1, 2},
                          {"q8_0", 8, 32, 34},    {"q4_0", 2, 32, 18},    {"q4_1", 3, 32, 20},
                          {"q5_0", 6, 32, 22},    {"q5_1", 7, 32, 24},    {"q2_k", 10, 256, 84},
                          {"q3_k", 11, 256, 110}, {"q4_k", 12, 256, 144}, {"q5_k", 13, 256, 176},
                          {"q6_k", 14, 256, 210}};
    GgufBuilder g;
    g.text("general.architecture", "llama");
    for (const Type& t : types)
        g.tensor(t.name, {t.block == 1 ? 4u : t.block, 2}, t.id,
                 std::string(2 * t.bytes * (t.block == 1 ? 4 : 1), '\0'));
    return g.build();
}

std::string everyMetadataType() {
    GgufBuilder g;
    std::string nested = GgufBuilder::bytes(kArray) + GgufBuilder::bytes(std::uint64_t(2));
    for (int i = 0; i < 2; ++i)
        nested += GgufBuilder::bytes(kU8) + GgufBuilder::bytes(std::uint64_t(2)) + "ab";
    g.raw("u8", 0, "\x01")
        .raw("i8", 1, "\xff")
        .raw("u16", 2, GgufBuilder::bytes<std::uint16_t>(2))
        .raw("i16", 3, GgufBuilder::bytes<std::int16_t>(-2))
        .u32("general.alignment", 64)
        .raw("i32", 5, GgufBuilder::bytes<std::int32_t>(-5))
        .f32("f32", 0.5f)
        .boolean("bool", true)
        .text("string", "text")
        .raw("u64", 10, GgufBuilder::bytes<std::uint64_t>(1))
        .raw("i64", 11, GgufBuilder::bytes<std::int64_t>(-1))
        .raw("f64", 12, GgufBuilder::bytes<double>(0.25))
        .raw("nested", kArray, nested)
        .texts("strings", {"a", "bc"});
    return g.build(64);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: make_llm_seeds tests/fixtures/llm fuzz/seeds\n";
        return 2;
    }
    const fs::path fixtures = argv[1], seeds = argv[2];
    try {
        write(seeds / "gguf/tiny_llama.gguf", tinyLlamaGguf().build());
        write(seeds / "gguf/tiny_llama_v2.gguf", tinyLlamaGguf({}, {.version = 2}).build());
        TinyLlama twoLayers;
        twoLayers.layers = 2;
        write(seeds / "gguf/tiny_llama_2_layers_tied.gguf",
              tinyLlamaGguf(twoLayers, {.output = false}).build());
        write(seeds / "gguf/every_tensor_type.gguf", everyTensorType());
        write(seeds / "gguf/every_metadata_type.gguf", everyMetadataType());

        write(seeds / "llama2c/tiny_shared.bin", tinyLlama2c());
        write(seeds / "llama2c/tiny_unshared.bin", tinyLlama2c({}, true));

        const std::string weights = tinySafetensors(tinyLlamaHfTensors());
        write(seeds / "hf/tiny_single", tinyLlamaHfConfig() + '\0' + '\0' + weights);
        std::string index = "{\"metadata\":{},\"weight_map\":{";
        bool firstName = true;
        for (const auto& [name, shape] : tinyLlamaHfTensors()) {
            index += (firstName ? "\"" : ",\"") + name + "\":\"model-00001-of-00001.safetensors\"";
            firstName = false;
        }
        index += "}}";
        write(seeds / "hf/tiny_sharded", tinyLlamaHfConfig() + '\0' + index + '\0' + weights);
        const fs::path kjv = fixtures / "kjv-llama-6m";
        write(seeds / "hf/kjv_config_and_index",
              read(kjv / "config.json") + '\0' + read(kjv / "model.safetensors.index.json") + '\0');
    } catch (const std::exception& e) {
        std::cerr << "make_llm_seeds: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
