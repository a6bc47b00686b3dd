// The tokenizer that goes with a checkpoint (see checkpoint_tokenizer.h).
#include "core/llm/checkpoint_tokenizer.h"

#include <filesystem>

#include "core/error.h"

namespace cwb {

std::unique_ptr<Tokenizer> loadCheckpointTokenizer(const LlamaCheckpoint& checkpoint) {
    if (!checkpoint.vocabulary.empty())
        return makeVocabularyTokenizer(checkpoint.vocabulary, checkpoint.path);
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path given(checkpoint.path);
    const fs::path folder = fs::is_directory(given, ec) ? given : given.parent_path();
    const fs::path model = folder / "tokenizer.model";
    if (fs::is_regular_file(model, ec)) return loadSentencePieceTokenizer(model.string());
    throw Error(checkpoint.path + ": no tokenizer: the checkpoint embeds no vocabulary and " +
                (folder.empty() ? std::string("its folder") : folder.string()) +
                " has no tokenizer.model");
}

}  // namespace cwb
