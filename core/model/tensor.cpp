// Tensor storage, views and dtype conversion (see tensor.h).
#include "core/model/tensor.h"

#include <cstring>
#include <sstream>

#include "core/error.h"
#include "core/quant/quant_rows.h"

namespace cwb {

std::int64_t shapeElements(const Shape& shape) {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
}

std::string shapeToString(const Shape& shape) {
    std::ostringstream out;
    out << '(';
    for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
    if (shape.size() == 1) out << ',';
    out << ')';
    return out.str();
}

Tensor::Tensor(Shape shape, DType type, std::shared_ptr<Storage> storage, std::size_t byteOffset)
    : m_shape(std::move(shape)),
      m_dtype(type),
      m_storage(std::move(storage)),
      m_offset(byteOffset) {}

Tensor Tensor::zeros(const Shape& shape, DType type) {
    auto storage = std::make_shared<OwnedStorage>(dtypeStorageBytes(type, shapeElements(shape)));
    return Tensor(shape, type, std::move(storage));
}

Tensor Tensor::fromFloats(const Shape& shape, std::vector<float> values) {
    if (static_cast<std::int64_t>(values.size()) != shapeElements(shape))
        throw Error("tensor of shape " + shapeToString(shape) + " given " +
                    std::to_string(values.size()) + " values");
    Tensor t = zeros(shape);
    std::memcpy(t.m_storage->mutableData(), values.data(), values.size() * sizeof(float));
    return t;
}

std::span<const float> Tensor::floats() const {
    if (m_dtype != DType::F32) throw Error("expected a float32 tensor, got " + dtypeName(m_dtype));
    return {reinterpret_cast<const float*>(bytes()), static_cast<std::size_t>(elements())};
}

std::span<float> Tensor::mutableFloats() {
    if (m_dtype != DType::F32) throw Error("expected a float32 tensor, got " + dtypeName(m_dtype));
    std::byte* base = m_storage ? m_storage->mutableData() : nullptr;
    if (!base && elements() > 0) throw Error("tensor is read-only");
    return {reinterpret_cast<float*>(base + m_offset), static_cast<std::size_t>(elements())};
}

namespace {

template <typename T>
void convertInto(const std::byte* src, std::size_t n, std::vector<float>& out) {
    for (std::size_t i = 0; i < n; ++i) {
        T v;
        std::memcpy(&v, src + i * sizeof(T), sizeof(T));
        out[i] = static_cast<float>(v);
    }
}

}  // namespace

std::vector<float> Tensor::toFloatVector() const {
    const std::size_t n = static_cast<std::size_t>(elements());
    std::vector<float> out(n);
    const std::byte* src = bytes();
    switch (m_dtype) {
        case DType::F64:
            convertInto<double>(src, n, out);
            break;
        case DType::I64:
            convertInto<std::int64_t>(src, n, out);
            break;
        case DType::I32:
            convertInto<std::int32_t>(src, n, out);
            break;
        case DType::I16:
            convertInto<std::int16_t>(src, n, out);
            break;
        case DType::I8:
            convertInto<std::int8_t>(src, n, out);
            break;
        case DType::U64:
            convertInto<std::uint64_t>(src, n, out);
            break;
        case DType::U32:
            convertInto<std::uint32_t>(src, n, out);
            break;
        case DType::U16:
            convertInto<std::uint16_t>(src, n, out);
            break;
        case DType::U8:
        case DType::Bool:
            convertInto<std::uint8_t>(src, n, out);
            break;
        case DType::F32:  // the types a weight row can have: one decoder for them all
        case DType::F16:
        case DType::BF16:
        case DType::Q4_0:
        case DType::Q4_1:
        case DType::Q5_0:
        case DType::Q5_1:
        case DType::Q8_0:
        case DType::Q8_1:
        case DType::Q2_K:
        case DType::Q3_K:
        case DType::Q4_K:
        case DType::Q5_K:
        case DType::Q6_K:
        case DType::Q8_K:
            quant::dequantizeRow(m_dtype, src, out.data(), static_cast<std::int64_t>(n));
            break;
    }
    return out;
}

Tensor Tensor::toFloat32() const { return fromFloats(m_shape, toFloatVector()); }

Tensor Tensor::clone() const {
    Tensor t = zeros(m_shape, m_dtype);
    if (byteSize()) std::memcpy(t.m_storage->mutableData(), bytes(), byteSize());
    return t;
}

}  // namespace cwb
