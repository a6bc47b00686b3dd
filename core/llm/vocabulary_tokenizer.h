// SentencePiece's BPE encoding over a Vocabulary (GGUF's tokenizer.ggml.* or llama2.c's
// tokenizer.bin), giving the ids libsentencepiece gives for the same pieces and scores:
//  - normalize: every space becomes "▁", with one "▁" in front when addSpacePrefix; bytes that
//    are not UTF-8 become U+FFFD;
//  - start from the characters (user-defined pieces are taken whole and never merged);
//  - repeatedly merge the adjacent pair whose joined piece is in the vocabulary with the
//    highest score, the leftmost on ties; a merge into an unused piece is undone at the end;
//  - a symbol not in the vocabulary becomes its UTF-8 bytes as <0xXX> pieces when the
//    vocabulary has byte pieces, or else the unknown piece (one for a run of them).
// SentencePiece models that remove extra whitespace (normalizer_spec.remove_extra_whitespaces,
// spm_train's default) or normalize (nmt_nfkc) differ; Llama's tokenizers do neither.
// Pairs wait in a priority queue over a linked list of symbols: O(n log n) in the text.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/llm/tokenizer.h"
#include "core/llm/vocabulary.h"

namespace cwb {

class VocabularyTokenizer final : public Tokenizer {
public:
    // Throws cwb::Error "<where>: ..." when the vocabulary is inconsistent.
    VocabularyTokenizer(Vocabulary vocabulary, const std::string& where);
    // The lookup tables point into the pieces, so the tokenizer stays where it was built.
    VocabularyTokenizer(const VocabularyTokenizer&) = delete;
    VocabularyTokenizer& operator=(const VocabularyTokenizer&) = delete;

    std::vector<int> encode(std::string_view text, bool addBos) const override;
    std::string decode(const std::vector<int>& ids) const override;
    std::string piece(int id) const override;
    PieceKind kind(int id) const override;
    int vocabularySize() const override { return static_cast<int>(m_vocab.pieces.size()); }
    int bos() const override { return m_vocab.bos; }
    int eos() const override { return m_vocab.eos; }
    bool addsSpacePrefix() const override { return m_vocab.addSpacePrefix; }
    Vocabulary vocabulary() const override { return m_vocab; }

private:
    int lookup(std::string_view piece) const;  // SentencePiece's PieceToId; -1 when absent
    void appendPieceIds(std::string_view piece, std::vector<int>& ids, bool& afterUnknown) const;

    Vocabulary m_vocab;
    std::string m_where;
    // Merges may only form normal, user-defined and unused pieces; the others (control,
    // unknown, byte) are found only as a whole symbol, as in SentencePiece.
    std::unordered_map<std::string_view, int> m_mergeable;
    std::unordered_map<std::string_view, int> m_reserved;
    std::array<std::vector<std::string_view>, 256> m_userDefined;  // by first byte, longest first
    std::array<int, 256> m_byteIds{};  // -1 where the vocabulary lacks <0xXX>
    bool m_byteFallback = false;
};

}  // namespace cwb
