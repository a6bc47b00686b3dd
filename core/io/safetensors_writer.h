// Writes safetensors files tensor by tensor, so that files of many gigabytes are streamed
// rather than built in memory: the header is written first from the declared shapes, then
// each tensor's bytes come from a callback in declaration order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/model/tensor.h"

namespace cwb {

struct TensorDeclaration {
    std::string name;
    Shape shape;
    DType dtype = DType::F32;
    std::size_t bytes() const { return dtypeStorageBytes(dtype, shapeElements(shape)); }
};

// Fills `out` (exactly declaration.bytes() long) with the tensor's data.
using TensorFiller = std::function<void(const TensorDeclaration&, std::byte* out)>;

// Writes `path` (through a temporary file renamed at the end, so a failure leaves no partial
// file and never replaces an existing one: it refuses if `path` exists). Throws cwb::Error.
void writeSafetensors(const std::string& path, const std::vector<TensorDeclaration>& tensors,
                      const TensorFiller& fill);

}  // namespace cwb
