// llama2.c's tokenizer.bin: an int32 maximum token length, then for each token a float32
// score, an int32 byte length and the bytes (little-endian), as llama2.c's tokenizer.py
// exports a SentencePiece model: "▁" written as a space, BOS and EOS as "\n<s>\n" and
// "\n</s>\n". The file does not store its token count; the checkpoint's vocab size does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/llm/vocabulary.h"

namespace cwb {

// The vocabulary of tokenizer.bin bytes, in SentencePiece's spelling again (spaces as "▁",
// "<s>", "</s>") with llama2.c's conventions: unknown 0 (when it reads "<unk>"), BOS 1,
// EOS 2, "<0xXX>" pieces as bytes, a dummy space prefix. `tokens` is the checkpoint's vocab
// size, or -1 to read tokens up to the end of the data. Throws cwb::Error "<where>: ..." on
// a truncated or inconsistent file, or a token count other than `tokens`.
Vocabulary parseLlama2cTokenizer(const std::uint8_t* data, std::size_t size,
                                 const std::string& where, int tokens);

// The same from a file (memory-mapped).
Vocabulary readLlama2cTokenizer(const std::string& path, int tokens);

}  // namespace cwb
