// kjv-llama-6m for the language-model tests: its Hugging Face folder, the evaluation text's
// token ids, and numpy .npy arrays (float32, C order) for reference logits.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/io/llama_checkpoint.h"
#include "core/llm/llama_weights.h"
#include "core/llm/tokenizer.h"
#include "tests/support/test_paths.h"

namespace cwb::test {

// kjv-llama-6m's bf16 weights from its Hugging Face folder.
inline LlamaCheckpoint loadKjvSafetensors() {
    return openLlamaCheckpoint(llmFixture("kjv-llama-6m"));
}

// kjv-llama-6m's tokenizer (libsentencepiece on its tokenizer.model).
inline std::unique_ptr<Tokenizer> kjvTokenizer() {
    return loadSentencePieceTokenizer(llmFixture("kjv-llama-6m/tokenizer.model"));
}

// eval_revelation.txt as kjv-llama-6m's tokenizer encodes the whole text, BOS first.
inline std::vector<std::int32_t> revelationTokens() {
    return kjvTokenizer()->encode(readBytes(llmFixture("eval_revelation.txt")), true);
}

struct NpyArray {
    std::vector<std::int64_t> shape;
    std::vector<float> values;
};

// A little-endian float32 C-order .npy file (format version 1 or 2).
inline NpyArray readNpy(const std::string& path) {
    const std::string bytes = readBytes(path);
    if (bytes.size() < 12 || bytes.compare(0, 6, "\x93NUMPY") != 0)
        throw std::runtime_error(path + ": not a .npy file");
    const int major = static_cast<unsigned char>(bytes[6]);
    std::size_t headerLength = 0, start = 0;
    if (major == 1) {
        headerLength = static_cast<unsigned char>(bytes[8]) |
                       (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
        start = 10;
    } else {
        for (int i = 0; i < 4; ++i)
            headerLength |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i]))
                            << (8 * i);
        start = 12;
    }
    const std::string header = bytes.substr(start, headerLength);
    if (header.find("'<f4'") == std::string::npos ||
        header.find("'fortran_order': False") == std::string::npos)
        throw std::runtime_error(path + ": only little-endian float32 in C order is read here");
    NpyArray a;
    std::stringstream dims(
        header.substr(header.find('(') + 1, header.find(')') - header.find('(') - 1));
    for (std::string d; std::getline(dims, d, ',');)
        if (d.find_first_not_of(' ') != std::string::npos) a.shape.push_back(std::stoll(d));
    std::size_t count = 1;
    for (auto d : a.shape) count *= static_cast<std::size_t>(d);
    const std::size_t data = start + headerLength;
    if (bytes.size() != data + count * 4) throw std::runtime_error(path + ": truncated");
    a.values.resize(count);
    std::memcpy(a.values.data(), bytes.data() + data, count * 4);
    return a;
}

}  // namespace cwb::test
