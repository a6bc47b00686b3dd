// Recycled memory for compressed tensors. Fresh memory from the OS costs a page fault per
// 4 KiB, which for a slider move over 10 M weights is as much time as the compression
// itself; buffers of a dropped result go back to a bounded pool and are reused by the next.
#pragma once

#include <cstddef>
#include <memory>

#include "core/model/tensor.h"

namespace cwb {

// `bytes` of uninitialized host memory, 64-byte aligned; the buffer returns to the pool when the
// last tensor holding it goes. Thread-safe.
std::shared_ptr<Storage> pooledStorage(std::size_t bytes);

}  // namespace cwb
