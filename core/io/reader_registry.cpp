// The readers and how a path finds its reader (see reader_registry.h).
#include "core/io/reader_registry.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"
#include "core/io/file_bytes.h"
#include "core/io/gguf_llama.h"
#include "core/io/hf_checkpoint.h"
#include "core/io/keras_h5.h"
#include "core/io/keras_zip.h"
#include "core/io/llama2c_checkpoint.h"
#include "core/io/safetensors.h"
#include "core/util/mapped_file.h"

namespace cwb {

namespace {

// safetensors has no magic number: an 8-byte header length, then the JSON header's '{'.
bool safetensorsHeader(const ProbeInput& in) {
    return !in.isFolder && in.head.size() > 8 && in.head[8] == '{';
}

std::string fileName(const ProbeInput& in) {
    return std::filesystem::path(in.path).filename().string();
}

// A Hugging Face checkpoint given as its folder, its config.json, its index or one of its
// shards (a shard as a network's weights is the .safetensors reader's, which loadModel asks).
bool huggingFaceCheckpoint(const ProbeInput& in) {
    const std::string name = fileName(in);
    return in.isFolder || name == "config.json" || name == "model.safetensors.index.json" ||
           (name.ends_with(".safetensors") && safetensorsHeader(in));
}

// llama2.c checkpoints have no magic number: a header whose sizes add up to the file's, or
// the .bin name (so that a truncated one is refused by its reader with the reason).
bool llama2cCheckpoint(const ProbeInput& in) {
    if (in.isFolder) return false;
    if (fileName(in).ends_with(".bin")) return true;
    if (in.head.empty()) return false;  // empty, or not a regular file
    try {
        return isLlama2cCheckpoint(*mapFile(in.path));
    } catch (const Error&) {
        return false;
    }
}

bool ofKind(const Reader& reader, ReaderKind kind) {
    return kind == ReaderKind::Any || reader.givesModel() == (kind == ReaderKind::Model);
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

}  // namespace

Probe startsWith(std::string_view magic, std::size_t offset) {
    return [magic = std::string(magic), offset](const ProbeInput& in) {
        return !in.isFolder && in.head.size() >= offset + magic.size() &&
               in.head.compare(offset, magic.size(), magic) == 0;
    };
}

std::span<const Reader> readers() {
    static const std::vector<Reader> all{
        {"Keras .h5 and .weights.h5", startsWith("\x89HDF\r\n\x1a\n"), loadKerasH5},
        {"Keras 3 .keras", startsWith("PK\x03\x04"), loadKerasZip},
        {"GGUF", startsWith("GGUF"), openGgufCheckpoint},
        {".safetensors", safetensorsHeader, loadSafetensors},
        {"Hugging Face folder", huggingFaceCheckpoint, openHfCheckpoint},
        {"llama2.c .bin", llama2cCheckpoint, openLlama2cCheckpoint},
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

const Reader* findReader(const std::string& path, ReaderKind kind) {
    const ProbeInput in = probeInput(path);
    for (const Reader& r : readers())
        if (ofKind(r, kind) && r.probe(in)) return &r;
    return nullptr;
}

std::string readerNames(ReaderKind kind) {
    std::string list;
    for (const Reader& r : readers())
        if (ofKind(r, kind)) list += (list.empty() ? "" : ", ") + r.name;
    return list;
}

Loaded openFile(const std::string& path) {
    const Reader* reader = findReader(path);
    if (!reader)
        throw Error(path + ": not a recognised file; supported: " + readerNames(ReaderKind::Any));
    return reader->open(path);
}

}  // namespace cwb
