// The fused pass's kernel families (see fused_kernels.h): the scalar reference's table, and
// the choice among the families by what this CPU has.
#include "core/compress/fused_kernels.h"

#include "core/error.h"

namespace cwb::fused {
namespace {

struct RefFamily {
    template <QuantKind Q, bool PerUnit, KeepRule::Kind K>
    static constexpr QuantizeRunFn values = &valuesRef<Q, PerUnit, K>;
    static constexpr SlotsFn weightSlots = &weightSlotsRef;
    static constexpr ErrorSlotsFn errorSlots = &errorSlotsRef;
    static constexpr SumsFn sums = &sumsRef;
    static constexpr CodeIndicesFn codeIndices = &codeIndicesRef;
    static constexpr StoreFn store = &storeRef;
};

}  // namespace

const FusedKernels& fusedKernels(quant::Isa isa) {
    static constexpr FusedKernels kRef = kernelTable<RefFamily>();
    if (!quant::isaSupported(isa))
        throw Error("this CPU has no " + quant::isaName(isa) +
                    "; choose a kernel family it supports");
    switch (isa) {
        case quant::Isa::Scalar:
            return kRef;
        case quant::Isa::Avx2:
            return fusedKernelsAvx2();
        case quant::Isa::Avx512:
            return fusedKernelsAvx512();
    }
    return kRef;
}

}  // namespace cwb::fused
