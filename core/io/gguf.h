// GGUF, llama.cpp's single-file checkpoint (versions 2 and 3): a header, typed metadata
// key/values, tensor infos, then aligned tensor data. This is the container alone; what a
// Llama model reads from it is in gguf_llama.h.
//
// Every count and length in the header is checked against the bytes that remain before
// anything is reserved, so a hostile header cannot make the reader allocate or loop on what
// it merely claims. Metadata values stay in the file: strings are views, arrays are decoded
// only when asked for.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/tensor.h"

namespace cwb {

// GGUF's metadata value types (gguf_type).
enum class GgufType : std::uint32_t {
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
};

std::string ggufTypeName(GgufType type);

struct GgufValue {
    GgufType type = GgufType::UInt8;
    std::int64_t integer = 0;  // integer and bool types (UInt64 above 2^63 is refused)
    double number = 0;         // every numeric type, floats included
    std::string_view text;     // String: a view into the file
    GgufType elementType = GgufType::UInt8;  // Array
    std::uint64_t count = 0;                 // Array: elements
    std::uint64_t offset = 0;                // Array: file offset of its first element
};

struct GgufTensorInfo {
    std::string name;
    Shape shape;  // row-major: GGUF's ne reversed, so a [in, out] matrix is [out, in]
    DType dtype = DType::F32;
    std::uint64_t offset = 0;  // absolute, in the file
    std::uint64_t bytes = 0;
};

class GgufFile {
public:
    // Parses and validates the header of a GGUF file held in `storage`. Throws cwb::Error
    // "<where>: ..." for anything truncated, garbled or unsupported.
    static GgufFile parse(std::shared_ptr<Storage> storage, const std::string& where);

    std::uint32_t version() const { return m_version; }
    std::uint64_t alignment() const { return m_alignment; }
    std::uint64_t dataOffset() const { return m_dataOffset; }
    const std::string& where() const { return m_where; }
    const std::map<std::string, GgufValue, std::less<>>& metadata() const { return m_metadata; }
    const std::vector<GgufTensorInfo>& tensorInfos() const { return m_tensors; }

    // The tensor as a view into the file (plain types are aligned: see parse).
    Tensor tensor(const GgufTensorInfo& info) const;

    // Typed metadata access: nullopt when the key is absent; cwb::Error naming the key when
    // it has another type.
    const GgufValue* find(std::string_view key) const;
    std::optional<std::int64_t> integer(std::string_view key) const;  // any integer type
    std::optional<double> number(std::string_view key) const;         // any numeric type
    std::optional<bool> boolean(std::string_view key) const;
    std::optional<std::string> text(std::string_view key) const;
    // Arrays; empty when the key is absent.
    std::vector<std::string> textArray(std::string_view key) const;
    std::vector<double> numberArray(std::string_view key) const;  // any numeric element type
    // Element count of an array (0 when absent); cwb::Error when not an array.
    std::uint64_t arrayCount(std::string_view key) const;

private:
    std::shared_ptr<Storage> m_storage;
    std::string m_where;
    std::uint32_t m_version = 0;
    std::uint64_t m_alignment = 32;
    std::uint64_t m_dataOffset = 0;
    std::map<std::string, GgufValue, std::less<>> m_metadata;
    std::vector<GgufTensorInfo> m_tensors;

    const GgufValue& array(std::string_view key, const GgufValue& value) const;
};

}  // namespace cwb
