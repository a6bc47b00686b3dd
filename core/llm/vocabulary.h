// A SentencePiece-style vocabulary: pieces with scores and kinds, as tokenizer.model, GGUF's
// tokenizer.ggml.* metadata and llama2.c's tokenizer.bin all describe it.
#pragma once

#include <string>
#include <string_view>
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

// U+2581 "▁", SentencePiece's spelling of a space inside pieces.
inline constexpr std::string_view kSpacePiece = "\xE2\x96\x81";

// How SentencePiece decodes the unknown piece: " ⁇ ".
inline constexpr std::string_view kUnknownSurface = " \xE2\x81\x87 ";

// A text piece as text: each "▁" a space; with dropLeadingSpace, a "▁" that begins it
// (the dummy prefix) is dropped.
std::string pieceText(std::string_view piece, bool dropLeadingSpace);

// The byte a byte piece stands for: "<0x0A>" -> 10; -1 when `piece` is not spelled <0xXX>
// (two hexadecimal digits, either case).
int bytePieceValue(std::string_view piece);
// "<0x0A>" for 10: SentencePiece's spelling, upper-case hexadecimal.
std::string bytePiece(unsigned char value);

}  // namespace cwb
