// A read-only memory mapping of a whole file. Checkpoints of many gigabytes are opened as
// mappings so that nothing is read until a tensor is used, and the page cache, not the heap,
// holds what was read.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/model/tensor.h"

namespace cwb {

class MappedFile {
public:
    // Maps `path` read-only; throws cwb::Error "<path>: ..." when it cannot (not found, not a
    // regular file, mmap refused). An empty file maps to size 0 and a null data pointer.
    explicit MappedFile(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::byte* data() const { return m_data; }
    std::size_t size() const { return m_size; }
    const std::string& path() const { return m_path; }

    // Tells the kernel that [offset, offset + bytes) will be read soon (or not again).
    void willNeed(std::size_t offset, std::size_t bytes) const;
    void dontNeed(std::size_t offset, std::size_t bytes) const;
    // Copies [offset, offset + bytes) into `out` with pread(2), not through the mapping;
    // throws cwb::Error "<path>: ..." where the file cannot be read or has shrunk.
    void read(std::size_t offset, std::size_t bytes, std::byte* out) const;

private:
    std::string m_path;
    std::byte* m_data = nullptr;
    std::size_t m_size = 0;
    int m_fd = -1;  // kept for read()
};

// A Storage whose bytes are a mapped file: tensors of a checkpoint are views into it, and
// it stays mapped while any of them lives. Read-only: mutableData() is nullptr.
class MappedStorage final : public Storage {
public:
    explicit MappedStorage(const std::string& path) : m_file(path) {}
    const std::byte* data() const override { return m_file.data(); }
    std::byte* mutableData() override { return nullptr; }
    std::size_t size() const override { return m_file.size(); }
    const MappedFile& file() const { return m_file; }

private:
    MappedFile m_file;
};

std::shared_ptr<MappedStorage> mapFile(const std::string& path);

// The mapped file that holds `tensor`'s bytes (nullptr for owned memory); the tensor keeps
// it alive.
const MappedFile* mappedFileOf(const Tensor& tensor);

// Bytes of `tensor` that sit in a mapped file (0 for owned memory).
std::size_t mappedBytes(const Tensor& tensor);

// `bytes` bytes of `tensor` from byte `offset`: where the tensor sits in a mapped file, read
// with pread into `scratch` (resized as needed), else its own bytes in place. A single pass
// over a checkpoint goes faster this way than through first touches of the mapping (6.5
// against 2.1 GB/s on one core of the project's VM, decoding bf16 as it goes: each new page
// of a mapping costs a fault and a page-table update), and leaves nothing resident.
const std::byte* tensorBytes(const Tensor& tensor, std::size_t offset, std::size_t bytes,
                             std::vector<std::byte>& scratch);

// Drops the pages of a tensor in a mapped file from this process's resident set: they stay
// in the page cache (a later read maps them again without reading the disk), but a pass
// over a checkpoint larger than half the memory no longer holds all of it resident. Does
// nothing for a tensor in owned memory.
void releaseResident(const Tensor& tensor);

}  // namespace cwb
