// A SentencePiece model (tokenizer.model) through libsentencepiece: the tokenizer that
// perplexity's protocol names ("as `sentencepiece` encodes it") for Hugging Face folders.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/llm/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace cwb {

class SentencePieceTokenizer final : public Tokenizer {
public:
    // Throws cwb::Error "<path>: ..." when the file is missing or not a SentencePiece model.
    explicit SentencePieceTokenizer(const std::string& path);
    ~SentencePieceTokenizer() override;

    std::vector<int> encode(std::string_view text, bool addBos) const override;
    // libsentencepiece's own decoding (a run of byte pieces that is not UTF-8 becomes U+FFFD).
    std::string decode(const std::vector<int>& ids) const override;
    std::string piece(int id) const override;
    PieceKind kind(int id) const override;
    int vocabularySize() const override;
    int bos() const override;
    int eos() const override;
    bool addsSpacePrefix() const override { return m_addSpacePrefix; }
    // Pieces, scores and kinds as libsentencepiece reports them.
    Vocabulary vocabulary() const override;

private:
    void checkId(int id) const;

    std::string m_path;
    std::unique_ptr<sentencepiece::SentencePieceProcessor> m_processor;
    bool m_addSpacePrefix = true;
    std::vector<bool> m_userDefined;  // libsentencepiece's API does not say; the model does
};

}  // namespace cwb
