// Whole-file reads for the model readers. The result is a Storage so that a reader can hand
// out tensors as views into it; a memory-mapped Storage can replace the heap copy later
// without changing the readers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/model/tensor.h"

namespace cwb {

// Size of a regular file; throws cwb::Error "<path>: file not found" / "is not a regular file".
std::uint64_t regularFileSize(const std::string& path);

// The first `count` bytes of a file (fewer when the file is shorter).
std::string readFilePrefix(const std::string& path, std::size_t count);

// The whole file in one Storage. Refuses files larger than the available memory before
// allocating anything.
std::shared_ptr<Storage> readWholeFile(const std::string& path);

}  // namespace cwb
