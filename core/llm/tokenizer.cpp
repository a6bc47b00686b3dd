// What every tokenizer shares: the text of one streamed token, and the factories.
#include "core/llm/tokenizer.h"

#include "core/llm/sentencepiece_tokenizer.h"
#include "core/llm/vocabulary_tokenizer.h"

namespace cwb {

std::string Tokenizer::tokenText(int previous, int id) const {
    switch (kind(id)) {
        case PieceKind::Control:
            return {};
        case PieceKind::Unknown:
            return std::string(kUnknownSurface);
        case PieceKind::Byte: {
            const int value = bytePieceValue(piece(id));
            return value < 0 ? std::string() : std::string(1, static_cast<char>(value));
        }
        default:
            return pieceText(piece(id), addsSpacePrefix() && (previous < 0 || previous == bos()));
    }
}

std::unique_ptr<Tokenizer> loadSentencePieceTokenizer(const std::string& path) {
    return std::make_unique<SentencePieceTokenizer>(path);
}

std::unique_ptr<Tokenizer> makeVocabularyTokenizer(Vocabulary vocabulary,
                                                   const std::string& where) {
    return std::make_unique<VocabularyTokenizer>(std::move(vocabulary), where);
}

}  // namespace cwb
