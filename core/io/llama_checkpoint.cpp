// Opening a checkpoint through the reader registry (see llama_checkpoint.h).
#include "core/io/llama_checkpoint.h"

#include <filesystem>

#include "core/error.h"
#include "core/io/llama2c_tokenizer.h"
#include "core/io/reader_registry.h"

namespace cwb {

namespace fs = std::filesystem;

LlamaCheckpoint openLlamaCheckpoint(const std::string& path, const std::string& llama2cTokenizer) {
    const Reader* reader = findReader(path, ReaderKind::Checkpoint);
    if (!reader)
        throw Error(path +
                    ": not a recognised language-model checkpoint (give a Hugging Face "
                    "folder, a GGUF file or a llama2.c .bin)");
    LlamaCheckpoint checkpoint = std::get<LlamaCheckpoint>(reader->open(path));
    if (checkpoint.format == "llama2.c") {  // its vocabulary is a file of its own
        const std::string tokenizer =
            llama2cTokenizer.empty() ? findLlama2cTokenizer(path) : llama2cTokenizer;
        if (!tokenizer.empty())
            checkpoint.vocabulary = readLlama2cTokenizer(tokenizer, checkpoint.config.vocabSize);
    }
    return checkpoint;
}

bool isLlamaCheckpointPath(const std::string& path) {
    // A lone .safetensors file is a network's weights; a shard has its folder's config.json.
    const fs::path file(path);
    std::error_code ec;
    if (file.extension() == ".safetensors" &&
        !fs::is_regular_file(file.parent_path() / "config.json", ec))
        return false;
    try {
        return findReader(path, ReaderKind::Checkpoint) != nullptr;
    } catch (const Error&) {  // nothing at `path`: the caller's reader says so
        return false;
    }
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
