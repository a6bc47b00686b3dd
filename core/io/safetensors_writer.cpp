// Streaming safetensors output (see safetensors_writer.h).
#include "core/io/safetensors_writer.h"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/util/atomic_file.h"

namespace cwb {

namespace {

std::string headerJson(const std::vector<TensorDeclaration>& tensors) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    std::uint64_t offset = 0;
    for (const auto& t : tensors) {
        if (dtypeIsBlock(t.dtype))
            throw Error("safetensors cannot hold " + dtypeName(t.dtype) + " tensor '" + t.name +
                        "'");
        const std::uint64_t end = offset + t.bytes();
        header[t.name] = {
            {"dtype", dtypeName(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, end}}};
        offset = end;
    }
    std::string text = header.dump();
    // The data that follows starts 8-byte aligned, as the format recommends.
    text.append((8 - (text.size() + 8) % 8) % 8, ' ');
    return text;
}

void writeAll(std::FILE* file, const void* data, std::size_t bytes, const std::string& path) {
    if (bytes && std::fwrite(data, 1, bytes, file) != bytes)
        throw Error(path + ": cannot write (disk full?)");
}

}  // namespace

void writeSafetensors(const std::string& path, const std::vector<TensorDeclaration>& tensors,
                      const TensorFiller& fill) {
    if (std::filesystem::exists(path))
        throw Error(path +
                    ": already exists; choose a new name (existing files are never replaced)");
    const std::string header = headerJson(tensors);
    writeFileAtomically(path, [&](const std::string& tempPath) {
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(tempPath.c_str(), "wb"),
                                                             &std::fclose);
        if (!file) throw Error(tempPath + ": cannot create the file");
        unsigned char length[8];
        for (int i = 0; i < 8; ++i)
            length[i] = static_cast<unsigned char>(header.size() >> (8 * i));
        writeAll(file.get(), length, 8, path);
        writeAll(file.get(), header.data(), header.size(), path);
        std::vector<std::byte> buffer;
        for (const auto& t : tensors) {
            buffer.resize(t.bytes());
            fill(t, buffer.data());
            writeAll(file.get(), buffer.data(), buffer.size(), path);
        }
        if (std::fflush(file.get()) != 0) throw Error(path + ": cannot write (disk full?)");
    });
}

}  // namespace cwb
