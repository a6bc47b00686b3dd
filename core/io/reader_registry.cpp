// The readers and how a path finds its reader (see reader_registry.h).
#include "core/io/reader_registry.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"
#include "core/io/file_bytes.h"
#include "core/io/keras_h5.h"
#include "core/io/keras_zip.h"
#include "core/io/safetensors.h"

namespace cwb {

namespace {

// safetensors has no magic number: an 8-byte header length, then the JSON header's '{'.
bool safetensorsHeader(const ProbeInput& in) {
    return !in.isFolder && in.head.size() > 8 && in.head[8] == '{';
}

ProbeInput probeInput(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) throw Error(path + ": file not found");
    ProbeInput in;
    in.path = path;
    in.isFolder = fs::is_directory(status);
    if (fs::is_regular_file(status)) in.head = readFilePrefix(path, kProbeBytes);
    return in;
}

std::string supportedList() {
    std::string list;
    for (const Reader& r : readers()) list += (list.empty() ? "" : ", ") + r.name;
    return list;
}

}  // namespace

Probe startsWith(std::string_view magic, std::size_t offset) {
    return [magic = std::string(magic), offset](const ProbeInput& in) {
        return !in.isFolder && in.head.size() >= offset + magic.size() &&
               in.head.compare(offset, magic.size(), magic) == 0;
    };
}

Probe folderHolding(std::string name) {
    return [name = std::move(name)](const ProbeInput& in) {
        std::error_code ec;
        return in.isFolder && std::filesystem::is_regular_file(in.path + "/" + name, ec);
    };
}

std::span<const Reader> readers() {
    static const std::vector<Reader> all{
        {"Keras .h5 and .weights.h5", startsWith("\x89HDF\r\n\x1a\n"), loadKerasH5},
        {"Keras 3 .keras", startsWith("PK\x03\x04"), loadKerasZip},
        {".safetensors", safetensorsHeader, loadSafetensors},
    };
    return all;
}

Loaded Reader::open(const std::string& path) const {
    try {
        return std::visit([&](auto loader) { return Loaded(loader(path)); }, load);
    } catch (const nlohmann::json::exception& e) {
        // The readers check every field they use; this is the net under a check they lack.
        throw Error(path + ": the file's JSON is malformed (" + e.what() +
                    "); the file is corrupt");
    }
}

const Reader* findReader(const std::string& path) {
    const ProbeInput in = probeInput(path);
    for (const Reader& r : readers())
        if (r.probe(in)) return &r;
    return nullptr;
}

Loaded openFile(const std::string& path) {
    const Reader* reader = findReader(path);
    if (reader) return reader->open(path);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        throw Error(path + ": is not a regular file; give the path of a model file");
    throw Error(path + ": not a recognised model file; supported: " + supportedList());
}

}  // namespace cwb
