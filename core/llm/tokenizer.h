// The tokenizer seam of the language-model work: text to token ids and back. Perplexity
// tokenizes the evaluation text once; generation encodes a prompt and streams the text of
// each new token. Two implementations: SentencePieceTokenizer (libsentencepiece on a
// tokenizer.model) and VocabularyTokenizer (the same BPE rule over a Vocabulary from GGUF
// metadata or llama2.c's tokenizer.bin).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/llm/vocabulary.h"

namespace cwb {

class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    // The ids of UTF-8 `text`, BOS first when addBos (and the vocabulary has one), as
    // SentencePiece encodes it. Empty text gives no ids (only BOS).
    virtual std::vector<int> encode(std::string_view text, bool addBos) const = 0;

    // The text of `ids` as SentencePiece decodes it: control pieces (BOS, EOS) vanish, byte
    // pieces <0xXX> become their bytes, "▁" becomes a space, and the space that leads the
    // first text piece (the dummy prefix encode added) is dropped. Ids out of range throw.
    virtual std::string decode(const std::vector<int>& ids) const = 0;

    // The piece of `id` as the vocabulary spells it ("▁the", "<0x0A>", "<s>"); throws
    // cwb::Error when id is out of range.
    virtual std::string piece(int id) const = 0;
    virtual PieceKind kind(int id) const = 0;

    virtual int vocabularySize() const = 0;
    virtual int bos() const = 0;  // -1 when the vocabulary has none
    virtual int eos() const = 0;  // -1 when the vocabulary has none
    // SentencePiece's add_dummy_prefix: encode puts "▁" before the text, decode drops it.
    virtual bool addsSpacePrefix() const = 0;

    // The text that token `id` adds when it follows `previous` (-1: nothing before it), for
    // streaming generated tokens one at a time: the piece decoded alone, its leading space
    // dropped after BOS or at the start. A byte piece gives its single byte, so a character
    // split over byte pieces is whole once all of them are printed.
    std::string tokenText(int previous, int id) const;

    // The Vocabulary of this tokenizer (pieces, scores, kinds, special ids).
    virtual Vocabulary vocabulary() const = 0;
};

// A SentencePiece model (tokenizer.model) through libsentencepiece. Throws cwb::Error
// "<path>: ..." when the file is missing or not a SentencePiece model.
std::unique_ptr<Tokenizer> loadSentencePieceTokenizer(const std::string& path);

// SentencePiece's BPE rule over `vocabulary`; throws cwb::Error "<where>: ..." when the
// vocabulary is inconsistent (sizes differ, special ids out of range).
std::unique_ptr<Tokenizer> makeVocabularyTokenizer(Vocabulary vocabulary, const std::string& where);

}  // namespace cwb
