// GGUF container parser (see gguf.h). Layout facts from the GGUF specification in ggml's
// docs/gguf.md: little-endian; "GGUF", u32 version, u64 tensor count, u64 metadata count;
// each key a u64-length string, a u32 type and a value; each tensor info a name, u32 dims,
// u64 ne[dims], u32 ggml type, u64 offset; data aligned to general.alignment (default 32).
#include "core/io/gguf.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/io/tensor_checks.h"

namespace cwb {
namespace {

static_assert(std::endian::native == std::endian::little, "GGUF is read as little-endian");

constexpr std::uint64_t kDefaultAlignment = 32;
constexpr std::uint32_t kMaxDims = 4;              // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 4;                  // arrays of arrays, skipped up to this depth
constexpr std::uint64_t kMinEntryBytes = 13;       // key length 8, type 4, a value of at least 1
constexpr std::uint64_t kMinTensorInfoBytes = 24;  // name length 8, dims 4, type 4, offset 8
constexpr std::uint64_t kMinArrayBytes = 12;       // element type 4, count 8

constexpr DType kTensorTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
                                  DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                                  DType::Q4_K, DType::Q5_K, DType::Q6_K};

std::string supportedTensorTypes() {
    std::string out;
    for (DType t : kTensorTypes) out += (out.empty() ? "" : ", ") + dtypeName(t);
    return out;
}

// Bytes of one value of a fixed-size type; 0 for String and Array.
std::uint64_t scalarBytes(GgufType type) {
    switch (type) {
        case GgufType::UInt8:
        case GgufType::Int8:
        case GgufType::Bool:
            return 1;
        case GgufType::UInt16:
        case GgufType::Int16:
            return 2;
        case GgufType::UInt32:
        case GgufType::Int32:
        case GgufType::Float32:
            return 4;
        case GgufType::UInt64:
        case GgufType::Int64:
        case GgufType::Float64:
            return 8;
        case GgufType::String:
        case GgufType::Array:
            return 0;
    }
    return 0;
}

bool isInteger(GgufType t) {
    return t != GgufType::Float32 && t != GgufType::Float64 && scalarBytes(t) > 0 &&
           t != GgufType::Bool;
}

// Reads the file front to back; every read is checked against the bytes that remain.
class Cursor {
public:
    Cursor(const std::byte* data, std::uint64_t size, const std::string& where)
        : m_data(data), m_size(size), m_where(where) {}

    std::uint64_t pos() const { return m_pos; }
    std::uint64_t remaining() const { return m_size - m_pos; }

    template <typename T>
    T read(std::string_view what) {
        if (remaining() < sizeof(T))
            throw Error(m_where + ": GGUF header is truncated at byte " + std::to_string(m_pos) +
                        " (reading " + std::string(what) + "); the file is truncated or corrupt");
        T value;
        std::memcpy(&value, m_data + m_pos, sizeof(T));
        m_pos += sizeof(T);
        return value;
    }

    std::string_view string(std::string_view what) {
        const auto length = read<std::uint64_t>(what);
        if (length > remaining())
            throw Error(m_where + ": GGUF string of " + std::to_string(length) + " bytes at byte " +
                        std::to_string(m_pos - 8) + " (" + std::string(what) +
                        ") runs past the end of the file; the file is truncated or corrupt");
        const std::string_view out(reinterpret_cast<const char*>(m_data + m_pos), length);
        m_pos += length;
        return out;
    }

    void skip(std::uint64_t bytes) { m_pos += bytes; }  // callers checked remaining()
    GgufType type(std::string_view what) {
        const auto raw = read<std::uint32_t>(what);
        if (raw > static_cast<std::uint32_t>(GgufType::Float64))
            throw Error(m_where + ": GGUF value type " + std::to_string(raw) + " at byte " +
                        std::to_string(m_pos - 4) + " (" + std::string(what) +
                        ") is not a GGUF type; the file is corrupt");
        return static_cast<GgufType>(raw);
    }
    const std::string& where() const { return m_where; }

private:
    const std::byte* m_data;
    std::uint64_t m_size;
    std::uint64_t m_pos = 0;
    const std::string& m_where;
};

GgufValue readScalar(Cursor& in, GgufType type, std::string_view what) {
    GgufValue v;
    v.type = type;
    auto setInteger = [&v](auto x) {
        v.integer = static_cast<std::int64_t>(x);
        v.number = static_cast<double>(x);
    };
    switch (type) {
        case GgufType::UInt8:
        case GgufType::Bool:
            setInteger(in.read<std::uint8_t>(what));
            break;
        case GgufType::Int8:
            setInteger(in.read<std::int8_t>(what));
            break;
        case GgufType::UInt16:
            setInteger(in.read<std::uint16_t>(what));
            break;
        case GgufType::Int16:
            setInteger(in.read<std::int16_t>(what));
            break;
        case GgufType::UInt32:
            setInteger(in.read<std::uint32_t>(what));
            break;
        case GgufType::Int32:
            setInteger(in.read<std::int32_t>(what));
            break;
        case GgufType::UInt64: {
            // Saturates: every reader bounds the integers it uses far below 2^63.
            const auto x = in.read<std::uint64_t>(what);
            setInteger(std::min<std::uint64_t>(x, std::numeric_limits<std::int64_t>::max()));
            break;
        }
        case GgufType::Int64:
            setInteger(in.read<std::int64_t>(what));
            break;
        case GgufType::Float32:
            v.number = in.read<float>(what);
            break;
        case GgufType::Float64:
            v.number = in.read<double>(what);
            break;
        case GgufType::String:
            v.text = in.string(what);
            break;
        case GgufType::Array:
            break;  // handled by readArray
    }
    return v;
}

// Walks `count` elements of `type` (already known to fit) without keeping them.
void skipElements(Cursor& in, GgufType type, std::uint64_t count, int depth,
                  const std::string& key);

// Reads an array's element type and count, checks that the elements fit in what remains of
// the file, and walks past them. Nested arrays are walked (not kept) up to kMaxArrayDepth.
GgufValue readArray(Cursor& in, const std::string& key, int depth) {
    GgufValue v;
    v.type = GgufType::Array;
    v.elementType = in.type("the element type of array '" + key + "'");
    v.count = in.read<std::uint64_t>("the length of array '" + key + "'");
    v.offset = in.pos();
    const std::uint64_t fixed = scalarBytes(v.elementType);
    const std::uint64_t least = fixed                               ? fixed
                                : v.elementType == GgufType::String ? 8
                                                                    : kMinArrayBytes;
    if (v.count > in.remaining() / least)
        throw Error(in.where() + ": GGUF array '" + key + "' claims " + std::to_string(v.count) +
                    " elements but only " + std::to_string(in.remaining()) +
                    " bytes remain; the file is truncated or corrupt");
    if (v.elementType == GgufType::Array && depth >= kMaxArrayDepth)
        throw Error(in.where() + ": GGUF array '" + key + "' nests arrays more than " +
                    std::to_string(kMaxArrayDepth) + " deep; the file is corrupt");
    skipElements(in, v.elementType, v.count, depth, key);
    return v;
}

void skipElements(Cursor& in, GgufType type, std::uint64_t count, int depth,
                  const std::string& key) {
    if (const std::uint64_t fixed = scalarBytes(type)) {
        in.skip(count * fixed);
    } else if (type == GgufType::String) {
        for (std::uint64_t i = 0; i < count; ++i) in.string("an element of array '" + key + "'");
    } else {
        for (std::uint64_t i = 0; i < count; ++i) readArray(in, key, depth + 1);
    }
}

std::string keyError(const std::string& where, std::string_view key, const std::string& wants,
                     const GgufValue& v) {
    return where + ": GGUF key '" + std::string(key) + "' must be " + wants + ", it is " +
           (v.type == GgufType::Array ? "an array of " + ggufTypeName(v.elementType)
                                      : "a " + ggufTypeName(v.type));
}

}  // namespace

std::string ggufTypeName(GgufType type) {
    static const char* names[] = {"uint8",  "int8",    "uint16", "int16",  "uint32",
                                  "int32",  "float32", "bool",   "string", "array",
                                  "uint64", "int64",   "float64"};
    const auto i = static_cast<std::uint32_t>(type);
    return i < std::size(names) ? names[i] : "type " + std::to_string(i);
}

GgufFile GgufFile::parse(std::shared_ptr<Storage> storage, const std::string& where) {
    GgufFile file;
    file.m_where = where;
    const std::uint64_t size = storage->size();
    Cursor in(storage->data(), size, where);
    if (size < 4 || std::memcmp(storage->data(), "GGUF", 4) != 0)
        throw Error(where + ": not a GGUF file (bad magic)");
    in.skip(4);
    file.m_version = in.read<std::uint32_t>("the version");
    if (file.m_version == 0x02000000u || file.m_version == 0x03000000u)
        throw Error(where +
                    ": big-endian GGUF is not supported; convert it on a little-endian "
                    "machine");
    if (file.m_version != 2 && file.m_version != 3)
        throw Error(where + ": GGUF version " + std::to_string(file.m_version) +
                    " is not supported (only versions 2 and 3)");
    const auto tensorCount = in.read<std::uint64_t>("the tensor count");
    const auto entryCount = in.read<std::uint64_t>("the metadata count");
    if (entryCount > in.remaining() / kMinEntryBytes)
        throw Error(where + ": GGUF header claims " + std::to_string(entryCount) +
                    " metadata entries but only " + std::to_string(in.remaining()) +
                    " bytes follow; the file is truncated or corrupt");
    if (tensorCount > in.remaining() / kMinTensorInfoBytes)
        throw Error(where + ": GGUF header claims " + std::to_string(tensorCount) +
                    " tensors but only " + std::to_string(in.remaining()) +
                    " bytes follow; the file is truncated or corrupt");

    for (std::uint64_t i = 0; i < entryCount; ++i) {
        const std::string key(in.string("a metadata key"));
        const GgufType type = in.type("the type of '" + key + "'");
        GgufValue value = type == GgufType::Array
                              ? readArray(in, key, 1)
                              : readScalar(in, type, "the value of '" + key + "'");
        if (!file.m_metadata.emplace(key, value).second)
            throw Error(where + ": GGUF metadata key '" + key +
                        "' appears twice; the file is corrupt");
    }
    if (const auto alignment = file.integer("general.alignment")) {
        if (*alignment < 8 || *alignment > (1 << 30) ||
            !std::has_single_bit(std::uint64_t(*alignment)))
            throw Error(where + ": general.alignment " + std::to_string(*alignment) +
                        " is not a power of two from 8 to 2^30; the file is corrupt");
        file.m_alignment = static_cast<std::uint64_t>(*alignment);
    } else {
        file.m_alignment = kDefaultAlignment;
    }

    if (tensorCount > in.remaining() / kMinTensorInfoBytes)
        throw Error(where + ": GGUF header claims " + std::to_string(tensorCount) +
                    " tensors but only " + std::to_string(in.remaining()) +
                    " bytes follow; the file is truncated or corrupt");
    file.m_tensors.reserve(tensorCount);
    std::map<std::string_view, std::size_t> seen;
    for (std::uint64_t i = 0; i < tensorCount; ++i) {
        GgufTensorInfo info;
        info.name = std::string(in.string("a tensor name"));
        const std::string place = where + ": GGUF tensor '" + info.name + "'";
        const auto dims = in.read<std::uint32_t>("the dimensions of '" + info.name + "'");
        if (dims > kMaxDims)
            throw Error(place + " has " + std::to_string(dims) + " dimensions (at most " +
                        std::to_string(kMaxDims) + "); the file is corrupt");
        info.shape.resize(dims);
        for (std::uint32_t d = 0; d < dims; ++d) {
            const auto ne = in.read<std::uint64_t>("the shape of '" + info.name + "'");
            if (ne > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                throw Error(place + ": dimension " + std::to_string(ne) + " overflows");
            info.shape[dims - 1 - d] = static_cast<std::int64_t>(ne);  // ne[0] is the last axis
        }
        const auto ggml = in.read<std::uint32_t>("the type of '" + info.name + "'");
        const bool known = dtypeFromGgmlId(ggml, info.dtype) &&
                           std::find(std::begin(kTensorTypes), std::end(kTensorTypes),
                                     info.dtype) != std::end(kTensorTypes);
        if (!known)
            throw Error(place + " has ggml type " + std::to_string(ggml) +
                        ", which is not supported (supported: " + supportedTensorTypes() + ")");
        info.offset = in.read<std::uint64_t>("the offset of '" + info.name + "'");
        const std::int64_t elements =
            checkedElements(info.shape, std::numeric_limits<std::int64_t>::max() / 8);
        if (elements < 0)
            throw Error(place + ": shape " + shapeToString(info.shape) + " overflows");
        const auto block = static_cast<std::int64_t>(dtypeBlockSize(info.dtype));
        const std::int64_t rowLength = info.shape.empty() ? 1 : info.shape.back();
        if (rowLength % block != 0)
            throw Error(place + ": rows of " + std::to_string(rowLength) + " " +
                        dtypeName(info.dtype) + " values are not whole blocks of " +
                        std::to_string(block) + "; the file is corrupt");
        info.bytes = dtypeStorageBytes(info.dtype, static_cast<std::uint64_t>(elements));
        file.m_tensors.push_back(std::move(info));
    }
    for (std::size_t i = 0; i < file.m_tensors.size(); ++i)
        if (!seen.emplace(file.m_tensors[i].name, i).second)
            throw Error(where + ": GGUF tensor '" + file.m_tensors[i].name +
                        "' appears twice; the file is corrupt");

    // Tensor data starts at the next multiple of the alignment.
    const std::uint64_t headerEnd = in.pos();
    file.m_dataOffset = (headerEnd + file.m_alignment - 1) / file.m_alignment * file.m_alignment;
    const std::uint64_t dataSize = file.m_dataOffset <= size ? size - file.m_dataOffset : 0;
    std::vector<const GgufTensorInfo*> byOffset;
    byOffset.reserve(file.m_tensors.size());
    for (GgufTensorInfo& info : file.m_tensors) {
        const std::string place = where + ": GGUF tensor '" + info.name + "'";
        if (info.offset % file.m_alignment != 0)
            throw Error(place + " at data offset " + std::to_string(info.offset) +
                        " is not aligned to " + std::to_string(file.m_alignment) +
                        " bytes; the file is corrupt");
        if (info.offset > dataSize || info.bytes > dataSize - info.offset)
            throw Error(place + " lies at bytes [" + std::to_string(info.offset) + ", " +
                        std::to_string(info.offset + info.bytes) + ") of the data, past its end (" +
                        std::to_string(dataSize) + " bytes); the file is truncated or corrupt");
        info.offset += file.m_dataOffset;
        byOffset.push_back(&info);
    }
    std::sort(
        byOffset.begin(), byOffset.end(),
        [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
    for (std::size_t i = 1; i < byOffset.size(); ++i)
        if (byOffset[i]->offset < byOffset[i - 1]->offset + byOffset[i - 1]->bytes)
            throw Error(where + ": GGUF tensors '" + byOffset[i - 1]->name + "' and '" +
                        byOffset[i]->name + "' overlap in the data; the file is corrupt");
    file.m_storage = std::move(storage);
    return file;
}

Tensor GgufFile::tensor(const GgufTensorInfo& info) const {
    return Tensor(info.shape, info.dtype, m_storage, info.offset);
}

const GgufValue* GgufFile::find(std::string_view key) const {
    const auto it = m_metadata.find(key);
    return it == m_metadata.end() ? nullptr : &it->second;
}

std::optional<std::int64_t> GgufFile::integer(std::string_view key) const {
    const GgufValue* v = find(key);
    if (!v) return std::nullopt;
    if (!isInteger(v->type)) throw Error(keyError(m_where, key, "an integer", *v));
    return v->integer;
}

std::optional<double> GgufFile::number(std::string_view key) const {
    const GgufValue* v = find(key);
    if (!v) return std::nullopt;
    if (!isInteger(v->type) && v->type != GgufType::Float32 && v->type != GgufType::Float64)
        throw Error(keyError(m_where, key, "a number", *v));
    return v->number;
}

std::optional<bool> GgufFile::boolean(std::string_view key) const {
    const GgufValue* v = find(key);
    if (!v) return std::nullopt;
    if (v->type != GgufType::Bool) throw Error(keyError(m_where, key, "a bool", *v));
    return v->integer != 0;
}

std::optional<std::string> GgufFile::text(std::string_view key) const {
    const GgufValue* v = find(key);
    if (!v) return std::nullopt;
    if (v->type != GgufType::String) throw Error(keyError(m_where, key, "a string", *v));
    return std::string(v->text);
}

const GgufValue& GgufFile::array(std::string_view key, const GgufValue& value) const {
    if (value.type != GgufType::Array) throw Error(keyError(m_where, key, "an array", value));
    return value;
}

std::uint64_t GgufFile::arrayCount(std::string_view key) const {
    const GgufValue* v = find(key);
    return v ? array(key, *v).count : 0;
}

std::vector<std::string> GgufFile::textArray(std::string_view key) const {
    const GgufValue* v = find(key);
    if (!v) return {};
    const GgufValue& a = array(key, *v);
    if (a.elementType != GgufType::String)
        throw Error(keyError(m_where, key, "an array of strings", a));
    // Walked once by parse, so every string is known to fit.
    Cursor in(m_storage->data(), m_storage->size(), m_where);
    in.skip(a.offset);
    std::vector<std::string> out;
    out.reserve(a.count);
    for (std::uint64_t i = 0; i < a.count; ++i) out.emplace_back(in.string(key));
    return out;
}

std::vector<double> GgufFile::numberArray(std::string_view key) const {
    const GgufValue* v = find(key);
    if (!v) return {};
    const GgufValue& a = array(key, *v);
    if (a.elementType == GgufType::String || a.elementType == GgufType::Array ||
        a.elementType == GgufType::Bool)
        throw Error(keyError(m_where, key, "an array of numbers", a));
    Cursor in(m_storage->data(), m_storage->size(), m_where);
    in.skip(a.offset);
    std::vector<double> out;
    out.reserve(a.count);
    for (std::uint64_t i = 0; i < a.count; ++i)
        out.push_back(readScalar(in, a.elementType, key).number);
    return out;
}

}  // namespace cwb
