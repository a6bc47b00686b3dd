// Sizes and names of element types (see dtype.h). The block sizes and GGUF ids are ggml's.
#include "core/model/dtype.h"

#include <array>
#include <limits>

namespace cwb {
namespace {

constexpr std::uint32_t kNoGgml = std::numeric_limits<std::uint32_t>::max();

struct DTypeTraits {
    DType type;
    const char* name;
    std::size_t blockSize;   // weights per block, 1 for plain types
    std::size_t blockBytes;  // bytes per block
    std::uint32_t ggml;      // GGUF type id
};

constexpr std::array<DTypeTraits, 25> kTraits{{
    {DType::F64, "F64", 1, 8, 28},        {DType::F32, "F32", 1, 4, 0},
    {DType::F16, "F16", 1, 2, 1},         {DType::BF16, "BF16", 1, 2, 30},
    {DType::I64, "I64", 1, 8, 27},        {DType::I32, "I32", 1, 4, 26},
    {DType::I16, "I16", 1, 2, 25},        {DType::I8, "I8", 1, 1, 24},
    {DType::U64, "U64", 1, 8, kNoGgml},   {DType::U32, "U32", 1, 4, kNoGgml},
    {DType::U16, "U16", 1, 2, kNoGgml},   {DType::U8, "U8", 1, 1, kNoGgml},
    {DType::Bool, "BOOL", 1, 1, kNoGgml}, {DType::Q4_0, "Q4_0", 32, 18, 2},
    {DType::Q4_1, "Q4_1", 32, 20, 3},     {DType::Q5_0, "Q5_0", 32, 22, 6},
    {DType::Q5_1, "Q5_1", 32, 24, 7},     {DType::Q8_0, "Q8_0", 32, 34, 8},
    {DType::Q8_1, "Q8_1", 32, 36, 9},     {DType::Q2_K, "Q2_K", 256, 84, 10},
    {DType::Q3_K, "Q3_K", 256, 110, 11},  {DType::Q4_K, "Q4_K", 256, 144, 12},
    {DType::Q5_K, "Q5_K", 256, 176, 13},  {DType::Q6_K, "Q6_K", 256, 210, 14},
    {DType::Q8_K, "Q8_K", 256, 292, 15},
}};

const DTypeTraits& traits(DType type) {
    for (const auto& t : kTraits)
        if (t.type == type) return t;
    return kTraits[1];
}

}  // namespace

std::size_t dtypeSize(DType type) {
    const auto& t = traits(type);
    return t.blockSize == 1 ? t.blockBytes : 0;
}
std::size_t dtypeBlockSize(DType type) { return traits(type).blockSize; }
std::size_t dtypeBlockBytes(DType type) { return traits(type).blockBytes; }
bool dtypeIsBlock(DType type) { return traits(type).blockSize > 1; }

std::size_t dtypeStorageBytes(DType type, std::uint64_t elements) {
    const auto& t = traits(type);
    return static_cast<std::size_t>(elements / t.blockSize * t.blockBytes);
}

std::string dtypeName(DType type) { return traits(type).name; }

bool parseDType(const std::string& name, DType& out) {
    for (const auto& t : kTraits) {
        if (name == t.name) {
            out = t.type;
            return true;
        }
    }
    return false;
}

bool dtypeFromGgmlId(std::uint32_t id, DType& out) {
    for (const auto& t : kTraits) {
        if (t.ggml == id) {
            out = t.type;
            return true;
        }
    }
    return false;
}

std::uint32_t ggmlId(DType type) { return traits(type).ggml; }

}  // namespace cwb
