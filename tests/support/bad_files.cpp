// Hostile file builders (see bad_files.h).
#include "tests/support/bad_files.h"

#include <zlib.h>

#include <fstream>
#include <random>
#include <stdexcept>

namespace cwb::test::bad {

std::string writeBytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
    return path;
}

std::string randomBytes(std::size_t count, unsigned seed) {
    std::mt19937 generator(seed);
    std::string bytes(count, '\0');
    for (char& c : bytes) c = static_cast<char>(generator() & 0xff);
    return bytes;
}

std::string idxHeader(const std::vector<std::uint32_t>& dims) {
    std::string bytes{'\0', '\0', '\x08', static_cast<char>(dims.size())};
    for (std::uint32_t d : dims)
        for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((d >> shift) & 0xff);
    return bytes;
}

std::string corruptGzip(std::size_t size) {
    const std::string plain = randomBytes(size, 7);
    z_stream stream{};
    deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // +16: gzip wrapper
    std::string out(deflateBound(&stream, plain.size()), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
    stream.avail_in = static_cast<uInt>(plain.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    deflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    // Keep the 10-byte gzip header so gzopen sees gzip, garble the deflate body.
    const std::string garbage = randomBytes(out.size() / 2, 99);
    out.replace(10, garbage.size(), garbage);
    return out;
}

}  // namespace cwb::test::bad
