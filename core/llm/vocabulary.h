// A SentencePiece-style vocabulary: pieces with scores and kinds, as tokenizer.model, GGUF's
// tokenizer.ggml.* metadata and llama2.c's tokenizer.bin all describe it.
#pragma once

#include <string>
#include <vector>

namespace cwb {

// SentencePiece's piece kinds (the values GGUF's tokenizer.ggml.token_type uses).
enum class PieceKind {
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6
};

struct Vocabulary {
    std::vector<std::string> pieces;  // "▁the", "<0x0A>", "<s>"
    std::vector<float> scores;        // merge priority: higher merges first
    std::vector<PieceKind> kinds;
    int bos = 1;
    int eos = 2;
    int unknown = 0;
    bool addSpacePrefix = true;  // SentencePiece's add_dummy_prefix
    bool empty() const { return pieces.empty(); }
};

}  // namespace cwb
