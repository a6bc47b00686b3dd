// safetensors: an 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range, then the data. Opened for inspection (weights only).
//
// The file is held in one Storage and every tensor is a view into it, so a memory-mapped
// Storage can replace the heap copy for checkpoints larger than memory.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/model/model.h"

namespace cwb {

// Tensors of a safetensors file already in memory, in file (offset) order. Validates the
// header fully: length within the data, JSON depth, dtypes, overflow-safe shapes, offsets
// in bounds, sizes equal to elements * dtype size, no overlaps. Throws cwb::Error "<where>: ...".
std::vector<NamedTensor> parseSafetensors(const std::shared_ptr<Storage>& file,
                                          const std::string& where);

// A not-evaluable Model listing the file's tensors.
Model loadSafetensors(const std::string& path);

}  // namespace cwb
