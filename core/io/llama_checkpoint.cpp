// Choosing a checkpoint reader (see llama_checkpoint.h).
#include "core/io/llama_checkpoint.h"

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/io/gguf_llama.h"
#include "core/io/hf_checkpoint.h"
#include "core/io/llama2c_checkpoint.h"
#include "core/io/llama2c_tokenizer.h"
#include "core/util/mapped_file.h"

namespace cwb {

namespace fs = std::filesystem;

LlamaCheckpoint openLlamaCheckpoint(const std::string& path, const std::string& llama2cTokenizer) {
    std::error_code ec;
    const std::string name = fs::path(path).filename().string();
    if (fs::is_directory(path, ec) || name == "config.json" ||
        name == "model.safetensors.index.json" || name.ends_with(".safetensors"))
        return openHfCheckpoint(path);
    const std::shared_ptr<MappedStorage> bytes = mapFile(path);
    if (bytes->size() >= 4 && std::memcmp(bytes->data(), "GGUF", 4) == 0)
        return readGgufCheckpoint(bytes, path);
    if (name.ends_with(".bin") || isLlama2cCheckpoint(*bytes)) {
        LlamaCheckpoint checkpoint = readLlama2cCheckpoint(bytes, path);
        const std::string tokenizer =
            llama2cTokenizer.empty() ? findLlama2cTokenizer(path) : llama2cTokenizer;
        if (!tokenizer.empty())
            checkpoint.vocabulary = readLlama2cTokenizer(tokenizer, checkpoint.config.vocabSize);
        return checkpoint;
    }
    throw Error(path +
                ": not a recognised language-model checkpoint (give a Hugging Face "
                "folder, a GGUF file or a llama2.c .bin)");
}

bool isLlamaCheckpointPath(const std::string& path) {
    std::error_code ec;
    const fs::path p(path);
    const std::string name = p.filename().string();
    if (fs::is_directory(p, ec) || name == "config.json" || name == "model.safetensors.index.json")
        return true;
    if (name.ends_with(".safetensors"))
        return fs::is_regular_file(p.parent_path() / "config.json", ec);
    char head[8] = {};
    if (FILE* file = std::fopen(path.c_str(), "rb")) {
        const std::size_t got = std::fread(head, 1, sizeof head, file);
        std::fclose(file);
        if (got >= 4 && std::memcmp(head, "GGUF", 4) == 0) return true;
        if (got >= 8 && std::memcmp(head, "\x89HDF\r\n\x1a\n", 8) == 0) return false;
    }
    return name.ends_with(".bin");
}

std::string findLlama2cTokenizer(const std::string& checkpointPath) {
    const fs::path folder = fs::path(checkpointPath).parent_path();
    std::error_code ec;
    const fs::path standard = (folder.empty() ? fs::path(".") : folder) / "tokenizer.bin";
    if (fs::is_regular_file(standard, ec)) return standard.string();
    std::string found;
    for (const auto& entry : fs::directory_iterator(folder.empty() ? "." : folder, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.starts_with("tok") && name.ends_with(".bin") && entry.is_regular_file(ec)) {
            if (!found.empty()) return "";  // more than one: the user has to say which
            found = entry.path().string();
        }
    }
    return found;
}

}  // namespace cwb
