// Names for the statistics' enums (see weight_stats.h).
#include "core/stats/weight_stats.h"

#include "core/util/enum_names.h"

namespace cwb {

std::string sparseFormatName(SparseFormat f) {
    static constexpr EnumName<SparseFormat> kNames[]{{SparseFormat::Dense, "dense"},
                                                     {SparseFormat::Bitmask, "bitmask"},
                                                     {SparseFormat::Csr, "csr"}};
    return nameOf(kNames, f);
}

}  // namespace cwb
