// SentencePiece's BPE encoding over a Vocabulary (see vocabulary_tokenizer.h).
#include "core/llm/vocabulary_tokenizer.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <queue>
#include <utility>

#include "core/error.h"

namespace cwb {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool isTrail(unsigned char c) { return (c & 0xC0) == 0x80; }

// The length of the well-formed UTF-8 character at text[i] (no overlong forms, no
// surrogates, nothing past U+10FFFF), or 0 when the bytes there are not one.
std::size_t utf8Length(std::string_view text, std::size_t i) {
    const auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
    const std::size_t left = text.size() - i;
    const unsigned char c = at(0);
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) {
        if (left < 2 || !isTrail(at(1))) return 0;
        return ((c & 0x1F) << 6 | (at(1) & 0x3F)) >= 0x80 ? 2 : 0;
    }
    if ((c & 0xF0) == 0xE0) {
        if (left < 3 || !isTrail(at(1)) || !isTrail(at(2))) return 0;
        const unsigned cp = (c & 0x0F) << 12 | (at(1) & 0x3F) << 6 | (at(2) & 0x3F);
        return cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF) ? 3 : 0;
    }
    if ((c & 0xF8) == 0xF0) {
        if (left < 4 || !isTrail(at(1)) || !isTrail(at(2)) || !isTrail(at(3))) return 0;
        const unsigned cp =
            (c & 0x07) << 18 | (at(1) & 0x3F) << 12 | (at(2) & 0x3F) << 6 | (at(3) & 0x3F);
        return cp >= 0x10000 && cp <= 0x10FFFF ? 4 : 0;
    }
    return 0;
}

// SentencePiece's identity normalization: spaces escaped as "▁", the dummy prefix, and
// U+FFFD for each byte that does not begin a well-formed character.
std::string normalize(std::string_view text, bool addSpacePrefix) {
    std::string out;
    out.reserve(text.size() + text.size() / 4 + kSpacePiece.size());
    if (addSpacePrefix) out += kSpacePiece;
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t n = utf8Length(text, i);
        if (n == 0) {
            out += kReplacement;
            ++i;
        } else if (text[i] == ' ') {
            out += kSpacePiece;
            ++i;
        } else {
            out.append(text, i, n);
            i += n;
        }
    }
    return out;
}

struct Symbol {
    std::size_t begin;
    std::size_t size;  // 0 once merged into its left neighbour
    int prev;
    int next;
    bool frozen;  // a user-defined piece: never merged
};

struct Candidate {
    float score;
    int left;
    int right;
    std::size_t size;  // of the joined piece: a stale candidate no longer matches it
};

// The highest score first; among equal scores the leftmost pair.
struct CandidateOrder {
    bool operator()(const Candidate& a, const Candidate& b) const {
        return a.score < b.score || (a.score == b.score && a.left > b.left);
    }
};

}  // namespace

VocabularyTokenizer::VocabularyTokenizer(Vocabulary vocabulary, const std::string& where)
    : m_vocab(std::move(vocabulary)), m_where(where) {
    const std::size_t n = m_vocab.pieces.size();
    if (n == 0) throw Error(where + ": the tokenizer's vocabulary is empty");
    if (n > static_cast<std::size_t>(INT_MAX))
        throw Error(where + ": the vocabulary has " + std::to_string(n) + " pieces, too many");
    if (m_vocab.scores.size() != n || m_vocab.kinds.size() != n)
        throw Error(where + ": the vocabulary has " + std::to_string(n) + " pieces but " +
                    std::to_string(m_vocab.scores.size()) + " scores and " +
                    std::to_string(m_vocab.kinds.size()) + " kinds");
    const auto checkId = [&](int id, const char* what) {
        if (id < -1 || id >= static_cast<int>(n))
            throw Error(where + ": the " + what + " id " + std::to_string(id) +
                        " is outside the vocabulary of " + std::to_string(n) + " pieces");
    };
    checkId(m_vocab.bos, "BOS");
    checkId(m_vocab.eos, "EOS");
    checkId(m_vocab.unknown, "unknown-token");

    m_byteIds.fill(-1);
    m_mergeable.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::string_view piece = m_vocab.pieces[i];
        const int id = static_cast<int>(i);
        // A NaN would break the queue's ordering; such a piece merges last.
        if (std::isnan(m_vocab.scores[i]))
            m_vocab.scores[i] = -std::numeric_limits<float>::infinity();
        switch (m_vocab.kinds[i]) {
            case PieceKind::Normal:
            case PieceKind::Unused:
                m_mergeable.emplace(piece, id);
                break;
            case PieceKind::UserDefined:
                m_mergeable.emplace(piece, id);
                if (!piece.empty())
                    m_userDefined[static_cast<unsigned char>(piece[0])].push_back(piece);
                break;
            case PieceKind::Byte: {
                const int value = bytePieceValue(piece);
                if (value < 0)
                    throw Error(where + ": token " + std::to_string(i) +
                                " is marked as a byte but is not spelled <0xXX>");
                if (m_byteIds[value] < 0) m_byteIds[value] = id;
                m_byteFallback = true;
                m_reserved.emplace(piece, id);
                break;
            }
            case PieceKind::Unknown:
            case PieceKind::Control:
                m_reserved.emplace(piece, id);
                break;
            default:
                throw Error(where + ": token " + std::to_string(i) + " has an unknown type " +
                            std::to_string(static_cast<int>(m_vocab.kinds[i])));
        }
    }
    for (auto& bucket : m_userDefined)
        std::stable_sort(bucket.begin(), bucket.end(), [](std::string_view a, std::string_view b) {
            return a.size() > b.size();
        });
}

int VocabularyTokenizer::lookup(std::string_view piece) const {
    if (auto it = m_reserved.find(piece); it != m_reserved.end()) return it->second;
    if (auto it = m_mergeable.find(piece); it != m_mergeable.end()) return it->second;
    return -1;
}

// One final symbol's ids: its own, or its bytes (byte fallback), or the unknown piece, once
// for a run of unknown symbols as SentencePiece gives it.
void VocabularyTokenizer::appendPieceIds(std::string_view piece, std::vector<int>& ids,
                                         bool& afterUnknown) const {
    const int id = lookup(piece);
    const bool known = id >= 0 && m_vocab.kinds[static_cast<std::size_t>(id)] != PieceKind::Unknown;
    const bool continuesRun = afterUnknown;
    afterUnknown = !known && !m_byteFallback;
    if (known) {
        ids.push_back(id);
        return;
    }
    const auto unknown = [&]() {
        if (m_vocab.unknown < 0)
            throw Error(m_where + ": the text holds a character the vocabulary cannot spell (" +
                        std::to_string(piece.size()) +
                        " bytes), and it has no unknown piece; use another tokenizer");
        return m_vocab.unknown;
    };
    if (!m_byteFallback) {
        if (!continuesRun) ids.push_back(unknown());
        return;
    }
    for (const char c : piece) {
        const int byteId = m_byteIds[static_cast<unsigned char>(c)];
        ids.push_back(byteId >= 0 ? byteId : unknown());
    }
}

std::vector<int> VocabularyTokenizer::encode(std::string_view text, bool addBos) const {
    std::vector<int> ids;
    if (addBos && m_vocab.bos >= 0) ids.push_back(m_vocab.bos);
    if (text.empty()) return ids;
    if (text.size() > static_cast<std::size_t>(INT_MAX) / 4)
        throw Error(m_where + ": the text is too long to tokenize at once (" +
                    std::to_string(text.size()) + " bytes)");
    const std::string normalized = normalize(text, m_vocab.addSpacePrefix);
    const std::string_view all = normalized;

    // Characters, or whole user-defined pieces where one starts (the longest).
    std::vector<Symbol> symbols;
    symbols.reserve(normalized.size());
    for (std::size_t i = 0; i < normalized.size();) {
        std::size_t size = 0;
        bool frozen = false;
        for (std::string_view user : m_userDefined[static_cast<unsigned char>(all[i])]) {
            if (all.substr(i, user.size()) == user) {
                size = user.size();
                frozen = true;
                break;
            }
        }
        if (!frozen) size = utf8Length(all, i);  // normalized text is well-formed
        const int index = static_cast<int>(symbols.size());
        symbols.push_back({i, size, index - 1, -1, frozen});
        i += size;
        if (i < normalized.size()) symbols.back().next = index + 1;
    }

    std::priority_queue<Candidate, std::vector<Candidate>, CandidateOrder> queue;
    // Undoing merges into unused pieces, as SentencePiece does: the last split seen wins.
    std::unordered_map<std::string_view, std::pair<std::string_view, std::string_view>> unusedSplit;
    const auto spelling = [&](const Symbol& s) { return all.substr(s.begin, s.size); };
    const auto consider = [&](int left, int right) {
        if (left < 0 || right < 0) return;
        const Symbol& l = symbols[static_cast<std::size_t>(left)];
        const Symbol& r = symbols[static_cast<std::size_t>(right)];
        if (l.frozen || r.frozen) return;
        const std::string_view joined = all.substr(l.begin, l.size + r.size);
        const auto it = m_mergeable.find(joined);
        if (it == m_mergeable.end()) return;
        const auto id = static_cast<std::size_t>(it->second);
        queue.push({m_vocab.scores[id], left, right, joined.size()});
        if (m_vocab.kinds[id] == PieceKind::Unused)
            unusedSplit[joined] = {spelling(l), spelling(r)};
    };
    for (std::size_t i = 1; i < symbols.size(); ++i)
        consider(static_cast<int>(i) - 1, static_cast<int>(i));

    while (!queue.empty()) {
        const Candidate top = queue.top();
        queue.pop();
        Symbol& left = symbols[static_cast<std::size_t>(top.left)];
        Symbol& right = symbols[static_cast<std::size_t>(top.right)];
        if (left.size == 0 || right.size == 0 || left.next != top.right ||
            left.size + right.size != top.size)
            continue;
        left.size += right.size;
        right.size = 0;
        left.next = right.next;
        if (right.next >= 0) symbols[static_cast<std::size_t>(right.next)].prev = top.left;
        consider(left.prev, top.left);
        consider(top.left, left.next);
    }

    bool afterUnknown = false;
    const auto emit = [&](const auto& self, std::string_view piece) -> void {
        if (!unusedSplit.empty()) {
            const int id = lookup(piece);
            if (id >= 0 && m_vocab.kinds[static_cast<std::size_t>(id)] == PieceKind::Unused) {
                if (const auto it = unusedSplit.find(piece); it != unusedSplit.end()) {
                    self(self, it->second.first);
                    self(self, it->second.second);
                    return;
                }
            }
        }
        appendPieceIds(piece, ids, afterUnknown);
    };
    for (int i = 0; i >= 0; i = symbols[static_cast<std::size_t>(i)].next)
        emit(emit, spelling(symbols[static_cast<std::size_t>(i)]));
    return ids;
}

std::string VocabularyTokenizer::piece(int id) const {
    (void)kind(id);  // range check
    return m_vocab.pieces[static_cast<std::size_t>(id)];
}

PieceKind VocabularyTokenizer::kind(int id) const {
    if (id < 0 || id >= vocabularySize())
        throw Error(m_where + ": token id " + std::to_string(id) +
                    " is outside the vocabulary of " + std::to_string(vocabularySize()) +
                    " pieces");
    return m_vocab.kinds[static_cast<std::size_t>(id)];
}

std::string VocabularyTokenizer::decode(const std::vector<int>& ids) const {
    std::string out;
    bool atStart = true;  // the dummy prefix has not been met yet
    for (const int id : ids) {
        const PieceKind k = kind(id);
        const std::string_view piece = m_vocab.pieces[static_cast<std::size_t>(id)];
        if (k == PieceKind::Control) continue;
        if (k == PieceKind::Unknown) {
            out += kUnknownSurface;
        } else if (k == PieceKind::Byte) {
            out += static_cast<char>(bytePieceValue(piece));
        } else {
            out += pieceText(piece, atStart && m_vocab.addSpacePrefix);
        }
        atStart = false;
    }
    return out;
}

}  // namespace cwb
