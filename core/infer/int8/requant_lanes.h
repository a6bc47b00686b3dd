// The requantization of int8_gemm.h's Requant rule for one register of columns, written once
// for every ISA (internal to core/infer/int8), with the scalar loop's operations in its order.
// An ISA's file defines its ops struct (core/util/vector_ops.h's operations, plus
// maskOf(columns): the lanes that are columns, loadI/loadF(p, mask): lanes outside the mask
// read 0, and storeOut(p, terms, y)), then includes this file once with CWB_REQUANT_TARGET
// (its target attribute) and CWB_REQUANT_ISA (the struct) defined.
#include "core/infer/int8/int8_gemm.h"

#if !defined(CWB_REQUANT_TARGET) || !defined(CWB_REQUANT_ISA)
#error "define CWB_REQUANT_TARGET and CWB_REQUANT_ISA before including requant_lanes.h"
#endif

namespace cwb::int8 {
namespace {

using RV = CWB_REQUANT_ISA;

// What the requantization of a register of columns needs, loaded once for all rows of a tile.
struct alignas(64) ColumnTerms {  // alignas: see implicit_conv.cpp's ColumnBlock
    RV::M mask;
    bool full;  // every lane is a column
    RV::I sums, offsets;
    RV::F step, bias, scale, shift;
};

// Columns [j0, j0 + min(columns, kWidth)).
CWB_REQUANT_TARGET inline ColumnTerms columnTerms(const Requant& q, const PackedB& b, int j0,
                                                  int columns) {
    ColumnTerms c;
    c.mask = RV::maskOf(columns);
    c.full = columns >= RV::kWidth;
    c.sums = RV::loadI(b.columnSums.data() + j0, c.mask);
    c.offsets = q.colOffset ? RV::loadI(q.colOffset + j0, c.mask) : RV::zeroI();
    c.step = RV::loadF(q.colStep + j0, c.mask);
    c.bias = q.bias ? RV::loadF(q.bias + j0, c.mask) : RV::zero();
    c.scale = q.scale ? RV::loadF(q.scale + j0, c.mask) : RV::zero();
    c.shift = q.scale ? RV::loadF(q.shift + j0, c.mask) : RV::zero();
    return c;
}

// Row i, columns [j0, j0 + kWidth) of the requantized result from kWidth int32 products.
CWB_REQUANT_TARGET __attribute__((always_inline)) inline void requantStore(const Requant& q,
                                                                           const ColumnTerms& c,
                                                                           int i, int j0,
                                                                           RV::I acc) {
    RV::I t = RV::subI(acc, RV::mulloI(RV::set1I(q.rowZero[i]), c.sums));
    if (q.colOffset) t = RV::addI(t, RV::mulloI(RV::set1I(q.rowCentred[i]), c.offsets));
    float* out = q.out + static_cast<long long>(i) * q.ldo + j0;
    RV::F y = RV::mul(RV::mul(RV::set1(q.rowScale[i]), c.step), RV::toFloat(t));
    if (q.accumulate) y = RV::add(RV::loadF(out, c.mask), y);
    if (q.finish) {
        if (q.bias) y = RV::add(y, c.bias);
        if (q.scale) y = RV::add(RV::mul(y, c.scale), c.shift);
        if (q.relu) y = RV::max(y, RV::zero());
    }
    RV::storeOut(out, c, y);
}

}  // namespace
}  // namespace cwb::int8
