// GGUF v3 output (see gguf_writer.h). All numbers little-endian, as GGUF requires; the
// project builds only for little-endian hosts, so values are copied as they are in memory.
#include "core/io/gguf_writer.h"

#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "core/io/gguf.h"
#include "core/util/atomic_file.h"

namespace cwb {
namespace {

template <typename T>
void put(std::string& out, T value) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    out.append(bytes, sizeof(T));
}

void putString(std::string& out, const std::string& text) {
    put<std::uint64_t>(out, text.size());
    out += text;
}

void putType(std::string& out, GgufType type) {
    put<std::uint32_t>(out, static_cast<std::uint32_t>(type));
}

std::uint64_t padded(std::uint64_t n) {
    return (n + GgufWriter::kAlignment - 1) / GgufWriter::kAlignment * GgufWriter::kAlignment;
}

}  // namespace

void GgufWriter::set(const std::string& key, std::string encoded) {
    for (Entry& e : m_metadata)
        if (e.key == key) {
            e.encoded = std::move(encoded);
            return;
        }
    m_metadata.push_back({key, std::move(encoded)});
}

void GgufWriter::setString(const std::string& key, const std::string& value) {
    std::string e;
    putType(e, GgufType::String);
    putString(e, value);
    set(key, std::move(e));
}

void GgufWriter::setUInt32(const std::string& key, std::uint32_t value) {
    std::string e;
    putType(e, GgufType::UInt32);
    put(e, value);
    set(key, std::move(e));
}

void GgufWriter::setFloat32(const std::string& key, float value) {
    std::string e;
    putType(e, GgufType::Float32);
    put(e, value);
    set(key, std::move(e));
}

void GgufWriter::setBool(const std::string& key, bool value) {
    std::string e;
    putType(e, GgufType::Bool);
    put<std::uint8_t>(e, value ? 1 : 0);
    set(key, std::move(e));
}

void GgufWriter::setStrings(const std::string& key, const std::vector<std::string>& values) {
    std::string e;
    putType(e, GgufType::Array);
    putType(e, GgufType::String);
    put<std::uint64_t>(e, values.size());
    for (const std::string& v : values) putString(e, v);
    set(key, std::move(e));
}

void GgufWriter::setFloat32s(const std::string& key, const std::vector<float>& values) {
    std::string e;
    putType(e, GgufType::Array);
    putType(e, GgufType::Float32);
    put<std::uint64_t>(e, values.size());
    for (float v : values) put(e, v);
    set(key, std::move(e));
}

void GgufWriter::setInt32s(const std::string& key, const std::vector<std::int32_t>& values) {
    std::string e;
    putType(e, GgufType::Array);
    putType(e, GgufType::Int32);
    put<std::uint64_t>(e, values.size());
    for (std::int32_t v : values) put(e, v);
    set(key, std::move(e));
}

void GgufWriter::addTensor(const std::string& name, const Tensor& tensor) {
    if (ggmlId(tensor.dtype()) == UINT32_MAX)
        throw Error("GGUF output: tensor '" + name + "' is " + dtypeName(tensor.dtype()) +
                    ", a type GGUF cannot hold");
    if (tensor.shape().empty() || tensor.shape().size() > 4)
        throw Error("GGUF output: tensor '" + name + "' has " +
                    std::to_string(tensor.shape().size()) + " dimensions; GGUF holds 1 to 4");
    if (dtypeIsBlock(tensor.dtype()) && tensor.shape().back() % dtypeBlockSize(tensor.dtype()) != 0)
        throw Error("GGUF output: tensor '" + name + "' has rows of " +
                    std::to_string(tensor.shape().back()) + " values, not whole " +
                    dtypeName(tensor.dtype()) + " blocks");
    for (const Item& t : m_tensors)
        if (t.name == name) throw Error("GGUF output: tensor '" + name + "' is added twice");
    m_tensors.push_back({name, tensor});
}

void GgufWriter::write(const std::string& path, const std::string& protectedSource) const {
    std::string header;
    header += "GGUF";
    put<std::uint32_t>(header, 3);
    put<std::uint64_t>(header, m_tensors.size());
    put<std::uint64_t>(header, m_metadata.size());
    for (const Entry& e : m_metadata) {
        putString(header, e.key);
        header += e.encoded;
    }
    std::uint64_t offset = 0;
    for (const Item& t : m_tensors) {
        putString(header, t.name);
        const Shape& shape = t.tensor.shape();
        put<std::uint32_t>(header, static_cast<std::uint32_t>(shape.size()));
        for (auto d = shape.rbegin(); d != shape.rend(); ++d)
            put<std::uint64_t>(header, static_cast<std::uint64_t>(*d));
        put<std::uint32_t>(header, ggmlId(t.tensor.dtype()));
        put<std::uint64_t>(header, offset);
        offset = padded(offset + t.tensor.byteSize());
    }
    header.resize(padded(header.size()), '\0');

    writeFileAtomically(
        path,
        [&](const std::string& tempPath) {
            std::ofstream out(tempPath, std::ios::binary | std::ios::trunc);
            out.write(header.data(), static_cast<std::streamsize>(header.size()));
            static const char zeros[kAlignment] = {};
            for (const Item& t : m_tensors) {
                const std::size_t bytes = t.tensor.byteSize();
                out.write(reinterpret_cast<const char*>(t.tensor.bytes()),
                          static_cast<std::streamsize>(bytes));
                out.write(zeros, static_cast<std::streamsize>(padded(bytes) - bytes));
            }
            out.flush();
            if (!out)
                throw Error(path +
                            ": writing the GGUF file failed (is the disk full?); "
                            "nothing was replaced");
        },
        protectedSource);
}

}  // namespace cwb
