// safetensors: an 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range, then the data. Opened for inspection (weights only).
//
// The file is memory-mapped (core/util/mapped_file.h) and every tensor is a view into the
// mapping, so a checkpoint larger than memory opens without copying: the page cache, not the
// heap, holds the bytes a caller reads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/model/model.h"

namespace cwb {

// Tensors of a safetensors file held in `file` (mapped or in memory), in file (offset) order.
// Validates the header fully: length within the data, JSON depth, dtypes, overflow-safe shapes,
// offsets in bounds, sizes equal to elements * dtype size, no overlaps. Throws cwb::Error "<where>:
// ...".
std::vector<NamedTensor> parseSafetensors(const std::shared_ptr<Storage>& file,
                                          const std::string& where);

// A not-evaluable Model listing the file's tensors, views into the mapped file.
Model loadSafetensors(const std::string& path);

}  // namespace cwb
