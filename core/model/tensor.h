// A tensor: a shape, an element type and bytes held by a Storage. Storage is shared and
// abstract so that a tensor can later sit in a memory-mapped file (large checkpoints)
// or on a GPU without changing the code that reads shapes and names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/model/dtype.h"

namespace cwb {

using Shape = std::vector<std::int64_t>;

std::int64_t shapeElements(const Shape& shape);
std::string shapeToString(const Shape& shape);  // "(3, 3, 1, 32)"

// Bytes somewhere in host memory. OwnedStorage is a heap buffer; a mapped-file storage
// can implement the same interface.
class Storage {
public:
    virtual ~Storage() = default;
    virtual const std::byte* data() const = 0;
    virtual std::byte* mutableData() = 0;  // nullptr for read-only storage
    virtual std::size_t size() const = 0;
};

class OwnedStorage final : public Storage {
public:
    explicit OwnedStorage(std::size_t bytes) : m_bytes(bytes) {}
    const std::byte* data() const override { return m_bytes.data(); }
    std::byte* mutableData() override { return m_bytes.data(); }
    std::size_t size() const override { return m_bytes.size(); }

private:
    std::vector<std::byte> m_bytes;
};

class Tensor {
public:
    Tensor() = default;
    // A zero-filled float32 tensor of this shape in owned memory.
    static Tensor zeros(const Shape& shape, DType type = DType::F32);
    static Tensor fromFloats(const Shape& shape, std::vector<float> values);
    // A view of `storage` starting at `byteOffset`; the caller checks that it fits.
    Tensor(Shape shape, DType type, std::shared_ptr<Storage> storage, std::size_t byteOffset = 0);

    const Shape& shape() const { return m_shape; }
    DType dtype() const { return m_dtype; }
    std::int64_t elements() const { return shapeElements(m_shape); }
    std::size_t byteSize() const {
        return dtypeStorageBytes(m_dtype, static_cast<std::uint64_t>(elements()));
    }
    bool empty() const { return !m_storage; }

    const std::byte* bytes() const { return m_storage ? m_storage->data() + m_offset : nullptr; }

    // float32 access; throws cwb::Error if the tensor is not F32.
    std::span<const float> floats() const;
    std::span<float> mutableFloats();

    // Any numeric dtype converted to float32 (F16 and BF16 exactly, integers by value).
    std::vector<float> toFloatVector() const;
    // A float32 copy in owned memory (the same object shared if already owned F32 and unique).
    Tensor toFloat32() const;
    // A deep copy in owned memory, so that edits do not reach the original.
    Tensor clone() const;

private:
    Shape m_shape;
    DType m_dtype = DType::F32;
    std::shared_ptr<Storage> m_storage;
    std::size_t m_offset = 0;
};

// A tensor with the name it has in its file, for inspection of weights-only files.
struct NamedTensor {
    std::string name;
    Tensor tensor;
};

}  // namespace cwb
