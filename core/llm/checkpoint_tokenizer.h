// The tokenizer that goes with a checkpoint, whatever its format: the vocabulary a GGUF file
// or llama2.c's tokenizer.bin gave, else the tokenizer.model beside a Hugging Face checkpoint.
#pragma once

#include <memory>

#include "core/llm/llama_weights.h"
#include "core/llm/tokenizer.h"

namespace cwb {

// A VocabularyTokenizer when checkpoint.vocabulary is filled; otherwise libsentencepiece on
// tokenizer.model in the checkpoint's folder (checkpoint.path, or the folder of that file).
// Throws cwb::Error "<path>: ..." when there is neither.
std::unique_ptr<Tokenizer> loadCheckpointTokenizer(const LlamaCheckpoint& checkpoint);

}  // namespace cwb
