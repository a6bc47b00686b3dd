// File size and prefix reads (see file_bytes.h).
#include "core/io/file_bytes.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace cwb {
namespace {

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

FilePtr openForReading(const std::string& path) {
    FilePtr file(std::fopen(path.c_str(), "rb"));
    if (!file) throw Error(path + ": cannot open file (" + std::strerror(errno) + ")");
    return file;
}

}  // namespace

std::uint64_t regularFileSize(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) throw Error(path + ": file not found");
    if (!fs::is_regular_file(status))
        throw Error(path + ": is not a regular file; give the path of a model file");
    const std::uintmax_t size = fs::file_size(path, ec);
    if (ec) throw Error(path + ": cannot read file size (" + ec.message() + ")");
    return size;
}

std::string readFilePrefix(const std::string& path, std::size_t count) {
    FilePtr file = openForReading(path);
    std::string bytes(count, '\0');
    bytes.resize(std::fread(bytes.data(), 1, count, file.get()));
    return bytes;
}

}  // namespace cwb
