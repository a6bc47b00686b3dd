// Sizes and names of element types (see dtype.h).
#include "core/model/dtype.h"

#include <array>
#include <utility>

namespace cwb {
namespace {

struct DTypeTraits {
    DType type;
    const char* name;
    std::size_t size;
};

constexpr std::array<DTypeTraits, 13> kTraits{{
    {DType::F64, "F64", 8}, {DType::F32, "F32", 4},  {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::I64, "I64", 8}, {DType::I32, "I32", 4},
    {DType::I16, "I16", 2}, {DType::I8, "I8", 1},    {DType::U64, "U64", 8},
    {DType::U32, "U32", 4}, {DType::U16, "U16", 2},  {DType::U8, "U8", 1},
    {DType::Bool, "BOOL", 1},
}};

const DTypeTraits& traits(DType type) {
    for (const auto& t : kTraits)
        if (t.type == type) return t;
    return kTraits[1];
}

}  // namespace

std::size_t dtypeSize(DType type) { return traits(type).size; }
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

}  // namespace cwb
