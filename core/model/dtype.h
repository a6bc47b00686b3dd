// Element types a tensor can hold. Files (safetensors above all) carry many; the engine
// computes in float32 and converts on demand.
#pragma once

#include <cstddef>
#include <string>

namespace cwb {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, Bool };

std::size_t dtypeSize(DType type);
// Safetensors spelling: "F32", "BF16", "I8", ...
std::string dtypeName(DType type);
// Parses the safetensors spelling; returns false for an unknown name.
bool parseDType(const std::string& name, DType& out);

}  // namespace cwb
