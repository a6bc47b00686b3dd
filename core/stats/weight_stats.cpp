// Names for the statistics' enums (see weight_stats.h).
#include "core/stats/weight_stats.h"

namespace cwb {

std::string sparseFormatName(SparseFormat f) {
    switch (f) {
        case SparseFormat::Dense:
            return "dense";
        case SparseFormat::Bitmask:
            return "bitmask";
        case SparseFormat::Csr:
            return "csr";
    }
    return "?";
}

}  // namespace cwb
