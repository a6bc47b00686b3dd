// llama2.c's tokenizer.bin (see llama2c_tokenizer.h).
#include "core/io/llama2c_tokenizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/util/mapped_file.h"

namespace cwb {
namespace {

std::int32_t readInt32(const std::uint8_t* p) {
    std::uint32_t v = std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 |
                      std::uint32_t(p[3]) << 24;
    std::int32_t out;
    std::memcpy(&out, &v, 4);
    return out;
}

float readFloat32(const std::uint8_t* p) {
    const std::int32_t bits = readInt32(p);
    float out;
    std::memcpy(&out, &bits, 4);
    return out;
}

// The exporter wrote SentencePiece's "▁" as a space; the tokenizer works in "▁".
std::string fromExported(const std::uint8_t* p, std::size_t n) {
    std::string piece;
    piece.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (p[i] == ' ')
            piece += kSpacePiece;
        else
            piece += static_cast<char>(p[i]);
    }
    return piece;
}

}  // namespace

Vocabulary parseLlama2cTokenizer(const std::uint8_t* data, std::size_t size,
                                 const std::string& where, int tokens) {
    if (tokens == 0 || tokens < -1)
        throw Error(where + ": the checkpoint's vocabulary size is " + std::to_string(tokens) +
                    "; a tokenizer.bin needs at least one token");
    if (size < 4)
        throw Error(where + ": " + std::to_string(size) +
                    " bytes is too short for a llama2.c tokenizer.bin (it starts with a 4-byte "
                    "maximum token length)");
    const std::int32_t maxLength = readInt32(data);
    if (maxLength < 0)
        throw Error(where + ": the maximum token length is negative (" + std::to_string(maxLength) +
                    "); not a llama2.c tokenizer.bin");

    Vocabulary v;
    // Each token takes at least 8 bytes: never reserve more than the file could hold.
    const std::size_t room = (size - 4) / 8;
    const std::size_t expected = tokens < 0 ? room : static_cast<std::size_t>(tokens);
    v.pieces.reserve(std::min(expected, room));
    v.scores.reserve(std::min(expected, room));
    const auto countMismatch = [&](const std::string& held) {
        return Error(where + ": the file holds " + held + " tokens but the checkpoint's " +
                     "vocabulary has " + std::to_string(tokens) +
                     "; use the tokenizer.bin made for this checkpoint");
    };

    std::size_t pos = 4;
    while (pos < size && (tokens < 0 || v.pieces.size() < expected)) {
        const std::string token = "token " + std::to_string(v.pieces.size());
        if (size - pos < 8)
            throw Error(where + ": the file ends inside " + token + "'s score and length (byte " +
                        std::to_string(pos) + " of " + std::to_string(size) + "); it is truncated");
        const float score = readFloat32(data + pos);
        const std::int32_t length = readInt32(data + pos + 4);
        if (!std::isfinite(score))
            throw Error(where + ": " + token + " has a score that is not a finite number (byte " +
                        std::to_string(pos) + "); the file is damaged");
        if (length < 0)
            throw Error(where + ": " + token + " has a negative length " + std::to_string(length) +
                        " (byte " + std::to_string(pos + 4) + "); the file is damaged");
        if (length > maxLength)
            throw Error(where + ": " + token + " is " + std::to_string(length) +
                        " bytes long, more than the file's maximum token length " +
                        std::to_string(maxLength) + " (byte " + std::to_string(pos + 4) +
                        "); the file is damaged");
        pos += 8;
        if (static_cast<std::size_t>(length) > size - pos)
            throw Error(where + ": " + token + " claims " + std::to_string(length) +
                        " bytes at byte " + std::to_string(pos) + " but only " +
                        std::to_string(size - pos) + " remain; the file is truncated");
        v.pieces.push_back(fromExported(data + pos, static_cast<std::size_t>(length)));
        v.scores.push_back(score);
        pos += static_cast<std::size_t>(length);
    }
    if (v.pieces.empty()) throw Error(where + ": the tokenizer.bin holds no tokens");
    if (tokens > 0 && v.pieces.size() < expected)
        throw countMismatch(std::to_string(v.pieces.size()));
    if (pos < size) throw countMismatch("more than " + std::to_string(tokens));

    const std::size_t n = v.pieces.size();
    v.kinds.assign(n, PieceKind::Normal);
    v.unknown = v.pieces[0] == "<unk>" ? 0 : -1;
    if (v.unknown == 0) v.kinds[0] = PieceKind::Unknown;
    v.bos = n > 1 ? 1 : -1;
    v.eos = n > 2 ? 2 : -1;
    for (const int special : {v.bos, v.eos}) {
        if (special < 0) continue;
        auto& piece = v.pieces[static_cast<std::size_t>(special)];
        // "\n<s>\n" -> "<s>": the newlines were only for llama2.c's printing.
        if (piece.size() >= 2 && piece.front() == '\n' && piece.back() == '\n')
            piece = piece.substr(1, piece.size() - 2);
        v.kinds[static_cast<std::size_t>(special)] = PieceKind::Control;
    }
    for (std::size_t i = 0; i < n; ++i)
        if (v.kinds[i] == PieceKind::Normal && bytePieceValue(v.pieces[i]) >= 0)
            v.kinds[i] = PieceKind::Byte;
    v.addSpacePrefix = true;
    return v;
}

Vocabulary readLlama2cTokenizer(const std::string& path, int tokens) {
    const MappedFile file(path);
    return parseLlama2cTokenizer(reinterpret_cast<const std::uint8_t*>(file.data()), file.size(),
                                 path, tokens);
}

}  // namespace cwb
