// Element types a tensor can hold. Files (safetensors above all) carry many; the engine
// computes in float32 and converts on demand. Block types (llama.cpp's Q4_0 ... Q6_K) store
// a block of weights as packed codes plus scales: their size is per block, not per element.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cwb {

enum class DType {
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U64,
    U32,
    U16,
    U8,
    Bool,
    // llama.cpp block formats, blocks along the last (row) axis.
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q8_1,
    Q2_K,
    Q3_K,
    Q4_K,
    Q5_K,
    Q6_K,
    Q8_K,
};

// Bytes per element of a plain type; 0 for a block type (see dtypeStorageBytes).
std::size_t dtypeSize(DType type);
// Weights per block (1 for plain types) and bytes per block (the element size for plain types).
std::size_t dtypeBlockSize(DType type);
std::size_t dtypeBlockBytes(DType type);
bool dtypeIsBlock(DType type);
// Bytes that `elements` values of `type` take; for a block type `elements` must be a whole
// number of blocks (the readers check that before building a tensor).
std::size_t dtypeStorageBytes(DType type, std::uint64_t elements);

// Safetensors spelling for plain types ("F32", "BF16", "I8"), ggml's for block types ("Q4_K").
std::string dtypeName(DType type);
// Parses either spelling; returns false for an unknown name.
bool parseDType(const std::string& name, DType& out);

// GGUF's numeric type ids (ggml_type): false for an id this build does not know.
bool dtypeFromGgmlId(std::uint32_t id, DType& out);
std::uint32_t ggmlId(DType type);  // UINT32_MAX for a type GGUF cannot hold (U8 ... Bool)

}  // namespace cwb
