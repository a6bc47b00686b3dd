// The spelling of SentencePiece's pieces: spaces as "▁", bytes as <0xXX>.
#include "core/llm/vocabulary.h"

namespace cwb {
namespace {

int hexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

}  // namespace

int bytePieceValue(std::string_view piece) {
    if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
    const int high = hexDigit(piece[3]);
    const int low = hexDigit(piece[4]);
    return high < 0 || low < 0 ? -1 : high * 16 + low;
}

std::string pieceText(std::string_view piece, bool dropLeadingSpace) {
    if (dropLeadingSpace && piece.substr(0, kSpacePiece.size()) == kSpacePiece)
        piece.remove_prefix(kSpacePiece.size());
    std::string out;
    out.reserve(piece.size());
    for (std::size_t i = 0; i < piece.size();) {
        if (piece.substr(i, kSpacePiece.size()) == kSpacePiece) {
            out += ' ';
            i += kSpacePiece.size();
        } else {
            out += piece[i++];
        }
    }
    return out;
}

std::string bytePiece(unsigned char value) {
    static const char digits[] = "0123456789ABCDEF";
    return std::string{'<', '0', 'x', digits[value >> 4], digits[value & 15], '>'};
}

}  // namespace cwb
