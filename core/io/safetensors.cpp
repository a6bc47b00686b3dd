// safetensors reader (see safetensors.h).
#include "core/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/io/tensor_checks.h"
#include "core/util/json_guard.h"
#include "core/util/mapped_file.h"

namespace cwb {
namespace {

// The format's reference implementation refuses headers above 100 MB.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
// A safetensors header is {name: {dtype, shape: [...], data_offsets: [...]}}: depth 3.
constexpr int kMaxHeaderDepth = 8;
constexpr const char* kSupportedDTypes =
    "F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL";

std::uint64_t nonNegativeInteger(const nlohmann::json& value, const std::string& where,
                                 const std::string& what) {
    if (!value.is_number_unsigned())
        throw Error(where + ": " + what + " must be a non-negative integer, got " + value.dump());
    return value.get<std::uint64_t>();
}

struct Entry {
    std::string name;
    DType dtype;
    Shape shape;
    std::uint64_t begin = 0, end = 0;
};

Entry parseEntry(const std::string& name, const nlohmann::json& info, std::uint64_t dataSize,
                 const std::string& where) {
    const std::string place = where + ": tensor '" + name + "'";
    if (!info.is_object()) throw Error(place + ": header entry is not an object");
    const auto dtypeIt = info.find("dtype");
    const auto shapeIt = info.find("shape");
    const auto offsetsIt = info.find("data_offsets");
    if (dtypeIt == info.end() || shapeIt == info.end() || offsetsIt == info.end())
        throw Error(place + ": header entry needs dtype, shape and data_offsets");
    if (!dtypeIt->is_string()) throw Error(place + ": dtype must be text, got " + dtypeIt->dump());
    Entry entry;
    entry.name = name;
    const std::string dtypeName = dtypeIt->get<std::string>();
    if (!parseDType(dtypeName, entry.dtype) || dtypeIsBlock(entry.dtype))
        throw Error(place + ": dtype " + dtypeName +
                    " is not supported (supported: " + kSupportedDTypes + ")");
    if (!shapeIt->is_array()) throw Error(place + ": shape must be a list, got " + shapeIt->dump());
    if (shapeIt->size() > 64)
        throw Error(place + ": shape has " + std::to_string(shapeIt->size()) +
                    " dimensions; the header is corrupt");
    for (const auto& d : *shapeIt) {
        const std::uint64_t v = nonNegativeInteger(d, place, "a shape dimension");
        if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            throw Error(place + ": shape " + shapeIt->dump() + " overflows");
        entry.shape.push_back(static_cast<std::int64_t>(v));
    }
    if (!offsetsIt->is_array() || offsetsIt->size() != 2)
        throw Error(place + ": data_offsets must be [begin, end], got " + offsetsIt->dump());
    entry.begin = nonNegativeInteger((*offsetsIt)[0], place, "data_offsets");
    entry.end = nonNegativeInteger((*offsetsIt)[1], place, "data_offsets");
    if (entry.begin > entry.end || entry.end > dataSize)
        throw Error(place + ": data_offsets [" + std::to_string(entry.begin) + ", " +
                    std::to_string(entry.end) + "] lie outside the " + std::to_string(dataSize) +
                    " bytes of data; the file is truncated or corrupt");
    const std::size_t width = dtypeSize(entry.dtype);
    const std::int64_t elements = checkedElements(
        entry.shape, std::numeric_limits<std::int64_t>::max() / static_cast<std::int64_t>(width));
    if (elements < 0) throw Error(place + ": shape " + shapeToString(entry.shape) + " overflows");
    if (static_cast<std::uint64_t>(elements) * width != entry.end - entry.begin)
        throw Error(place + ": shape " + shapeToString(entry.shape) + " of " + dtypeName +
                    " needs " + std::to_string(static_cast<std::uint64_t>(elements) * width) +
                    " bytes but data_offsets span " + std::to_string(entry.end - entry.begin));
    return entry;
}

}  // namespace

std::vector<NamedTensor> parseSafetensors(const std::shared_ptr<Storage>& file,
                                          const std::string& where) {
    const std::byte* bytes = file->data();
    const std::uint64_t size = file->size();
    if (size < 8)
        throw Error(where + ": too short for a safetensors header; the file is truncated");
    std::uint64_t headerLength = 0;
    for (int i = 7; i >= 0; --i)
        headerLength = (headerLength << 8) | std::to_integer<std::uint64_t>(bytes[i]);
    if (headerLength > size - 8)
        throw Error(where + ": safetensors header length " + std::to_string(headerLength) +
                    " exceeds the file size " + std::to_string(size) +
                    "; the file is truncated or corrupt");
    if (headerLength > kMaxHeaderBytes)
        throw Error(where + ": safetensors header of " + std::to_string(headerLength) +
                    " bytes is larger than the 100 MB limit");
    const std::string_view header(reinterpret_cast<const char*>(bytes + 8), headerLength);
    const auto json = parseJsonGuarded(header, where + ": safetensors header", kMaxHeaderDepth);
    if (!json.is_object()) throw Error(where + ": safetensors header is not a JSON object");

    const std::uint64_t dataStart = 8 + headerLength;
    const std::uint64_t dataSize = size - dataStart;
    std::vector<Entry> entries;
    for (const auto& [name, info] : json.items()) {
        if (name == "__metadata__") {
            if (!info.is_object())
                throw Error(where + ": __metadata__ must be an object of strings");
            continue;
        }
        entries.push_back(parseEntry(name, info, dataSize, where));
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    for (std::size_t i = 1; i < entries.size(); ++i)
        if (entries[i].begin < entries[i - 1].end)
            throw Error(where + ": tensors '" + entries[i - 1].name + "' and '" + entries[i].name +
                        "' overlap in the data; the file is corrupt");

    std::vector<NamedTensor> tensors;
    tensors.reserve(entries.size());
    for (Entry& entry : entries) {
        const std::uint64_t offset = dataStart + entry.begin;
        const std::size_t width = dtypeSize(entry.dtype);
        if (offset % width == 0) {
            tensors.push_back(
                {entry.name, Tensor(std::move(entry.shape), entry.dtype, file, offset)});
        } else {
            // Headers of odd length leave data unaligned; typed access needs alignment, so
            // such a tensor gets its own aligned copy. Writers pad the header to 8 bytes, so
            // checkpoints of real size stay views into the mapping.
            auto copy = std::make_shared<OwnedStorage>(entry.end - entry.begin);
            if (copy->size()) std::memcpy(copy->mutableData(), bytes + offset, copy->size());
            tensors.push_back(
                {entry.name, Tensor(std::move(entry.shape), entry.dtype, std::move(copy))});
        }
    }
    return tensors;
}

Model loadSafetensors(const std::string& path) {
    Model model;
    model.sourcePath = path;
    model.format = "safetensors (weights only)";
    model.evaluable = false;
    model.notEvaluableReason = "weights only: the file has no architecture";
    model.tensors = parseSafetensors(mapFile(path), path);
    return model;
}

}  // namespace cwb
