// A SentencePiece model through libsentencepiece (see sentencepiece_tokenizer.h).
#include "core/llm/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "core/error.h"

namespace cwb {
namespace {

// The two facts libsentencepiece's API keeps to itself, read from the model's protocol
// buffer (sentencepiece_model.proto): ModelProto.pieces (field 1) with their type (field 3,
// USER_DEFINED = 4), and NormalizerSpec.add_dummy_prefix (ModelProto field 3, its field 3).
class ProtoFields {
public:
    explicit ProtoFields(std::string_view data) : m_data(data) {}

    // The next field: its number, and its value (varint) or payload (length-delimited).
    bool next(std::uint32_t& field, std::uint64_t& value, std::string_view& payload) {
        if (m_pos >= m_data.size()) return false;
        std::uint64_t key = 0;
        if (!varint(key)) return false;
        field = static_cast<std::uint32_t>(key >> 3);
        switch (key & 7) {
            case 0:
                return varint(value);
            case 1:
                return skip(8);
            case 5:
                return skip(4);
            case 2: {
                std::uint64_t size = 0;
                if (!varint(size) || size > m_data.size() - m_pos) return false;
                payload = m_data.substr(m_pos, size);
                m_pos += size;
                return true;
            }
            default:
                return false;
        }
    }

private:
    bool varint(std::uint64_t& value) {
        value = 0;
        for (int shift = 0; shift < 64 && m_pos < m_data.size(); shift += 7) {
            const auto byte = static_cast<unsigned char>(m_data[m_pos++]);
            value |= std::uint64_t(byte & 0x7F) << shift;
            if (byte < 0x80) return true;
        }
        return false;
    }
    bool skip(std::size_t n) {
        if (n > m_data.size() - m_pos) return false;
        m_pos += n;
        return true;
    }

    std::string_view m_data;
    std::size_t m_pos = 0;
};

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& path)
    : m_path(path), m_processor(std::make_unique<sentencepiece::SentencePieceProcessor>()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        throw Error(path + ": no such tokenizer file; a SentencePiece tokenizer.model is needed");
    const auto status = m_processor->Load(path);
    if (!status.ok())
        throw Error(path + ": not a SentencePiece model (libsentencepiece: " + status.ToString() +
                    ")");
    if (m_processor->GetPieceSize() <= 0) throw Error(path + ": the SentencePiece model is empty");

    const std::string proto = m_processor->serialized_model_proto();
    ProtoFields model(proto);
    std::uint32_t field = 0;
    std::uint64_t value = 0;
    std::string_view payload;
    std::vector<bool> userDefined;
    while (model.next(field, value, payload)) {
        if (field == 1) {
            bool isUserDefined = false;
            ProtoFields piece(payload);
            while (piece.next(field, value, payload))
                if (field == 3) isUserDefined = value == 4;
            userDefined.push_back(isUserDefined);
        } else if (field == 3) {
            ProtoFields normalizer(payload);
            while (normalizer.next(field, value, payload))
                if (field == 3) m_addSpacePrefix = value != 0;
        }
    }
    if (userDefined.size() == static_cast<std::size_t>(m_processor->GetPieceSize()))
        m_userDefined = std::move(userDefined);
    else
        m_userDefined.assign(static_cast<std::size_t>(m_processor->GetPieceSize()), false);
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::vector<int> SentencePieceTokenizer::encode(std::string_view text, bool addBos) const {
    std::vector<int> ids;
    const auto status = m_processor->Encode(text, &ids);
    if (!status.ok()) throw Error(m_path + ": encoding failed (" + status.ToString() + ")");
    if (addBos && bos() >= 0) ids.insert(ids.begin(), bos());
    return ids;
}

std::string SentencePieceTokenizer::decode(const std::vector<int>& ids) const {
    for (const int id : ids) checkId(id);
    std::string text;
    const auto status = m_processor->Decode(ids, &text);
    if (!status.ok()) throw Error(m_path + ": decoding failed (" + status.ToString() + ")");
    return text;
}

void SentencePieceTokenizer::checkId(int id) const {
    if (id < 0 || id >= vocabularySize())
        throw Error(m_path + ": token id " + std::to_string(id) + " is outside the vocabulary of " +
                    std::to_string(vocabularySize()) + " pieces");
}

std::string SentencePieceTokenizer::piece(int id) const {
    checkId(id);
    return m_processor->IdToPiece(id);
}

PieceKind SentencePieceTokenizer::kind(int id) const {
    checkId(id);
    if (m_processor->IsUnknown(id)) return PieceKind::Unknown;
    if (m_processor->IsControl(id)) return PieceKind::Control;
    if (m_processor->IsByte(id)) return PieceKind::Byte;
    if (m_processor->IsUnused(id)) return PieceKind::Unused;
    return m_userDefined[static_cast<std::size_t>(id)] ? PieceKind::UserDefined : PieceKind::Normal;
}

int SentencePieceTokenizer::vocabularySize() const { return m_processor->GetPieceSize(); }
int SentencePieceTokenizer::bos() const { return m_processor->bos_id(); }
int SentencePieceTokenizer::eos() const { return m_processor->eos_id(); }

Vocabulary SentencePieceTokenizer::vocabulary() const {
    Vocabulary v;
    const int n = vocabularySize();
    v.pieces.reserve(static_cast<std::size_t>(n));
    v.scores.reserve(static_cast<std::size_t>(n));
    v.kinds.reserve(static_cast<std::size_t>(n));
    for (int id = 0; id < n; ++id) {
        v.pieces.push_back(m_processor->IdToPiece(id));
        v.scores.push_back(m_processor->GetScore(id));
        v.kinds.push_back(kind(id));
    }
    v.bos = bos();
    v.eos = eos();
    v.unknown = m_processor->unk_id();
    v.addSpacePrefix = m_addSpacePrefix;
    return v;
}

}  // namespace cwb
