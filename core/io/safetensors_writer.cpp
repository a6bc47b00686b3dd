// Streaming safetensors output (see safetensors_writer.h).
#include "core/io/safetensors_writer.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/util/atomic_file.h"
#include "core/util/sequential_writer.h"

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

}  // namespace

void writeSafetensors(const std::string& path, const std::vector<TensorDeclaration>& tensors,
                      const TensorFiller& fill) {
    if (std::filesystem::exists(path))
        throw Error(path +
                    ": already exists; choose a new name (existing files are never replaced)");
    const std::string header = headerJson(tensors);
    writeFileAtomically(path, [&](const std::string& tempPath) {
        std::uint64_t total = 8 + header.size();
        for (const auto& t : tensors) total += t.bytes();
        SequentialWriter file(tempPath, total);
        unsigned char length[8];
        for (int i = 0; i < 8; ++i)
            length[i] = static_cast<unsigned char>(header.size() >> (8 * i));
        file.write(length, 8);
        file.write(header.data(), header.size());
        std::vector<std::byte> buffer;
        for (const auto& t : tensors) {
            buffer.resize(t.bytes());
            fill(t, buffer.data());
            file.write(buffer.data(), buffer.size());
        }
        file.finish();
    });
}

}  // namespace cwb
