// Byte encoding of a Harvest (see harvest.h): little-endian u64 counts and lengths,
// then raw bytes. Both ends are this program, so the format needs no version.
#include "core/io/harvest.h"

#include <cstring>

#include "core/error.h"
#include "core/util/child_process.h"

namespace cwb {
namespace {

class ByteWriter {
public:
    void number(std::uint64_t value) { raw(&value, sizeof value); }
    void text(std::string_view value) {
        number(value.size());
        raw(value.data(), value.size());
    }
    void raw(const void* data, std::size_t size) {
        m_bytes.append(static_cast<const char*>(data), size);
    }
    std::string take() { return std::move(m_bytes); }

private:
    std::string m_bytes;
};

class ByteReader {
public:
    ByteReader(std::string_view bytes, const std::string& where) : m_bytes(bytes), m_where(where) {}
    std::uint64_t number() {
        std::uint64_t value;
        std::memcpy(&value, take(sizeof value).data(), sizeof value);
        return value;
    }
    std::string_view text() { return take(number()); }
    std::string_view take(std::uint64_t size) {
        if (size > m_bytes.size() - m_at)
            throw Error(m_where + ": the reading process sent back a truncated answer; try again");
        const std::string_view out = m_bytes.substr(m_at, static_cast<std::size_t>(size));
        m_at += static_cast<std::size_t>(size);
        return out;
    }
    bool atEnd() const { return m_at == m_bytes.size(); }

private:
    std::string_view m_bytes;
    std::size_t m_at = 0;
    const std::string& m_where;
};

void writeTensor(ByteWriter& out, const HarvestedTensor& entry) {
    out.number(static_cast<std::uint64_t>(static_cast<std::int64_t>(entry.layer)));
    out.text(entry.name);
    out.number(static_cast<std::uint64_t>(entry.tensor.dtype()));
    out.number(entry.tensor.shape().size());
    for (const std::int64_t d : entry.tensor.shape()) out.number(static_cast<std::uint64_t>(d));
    out.text(std::string_view(reinterpret_cast<const char*>(entry.tensor.bytes()),
                              entry.tensor.byteSize()));
}

HarvestedTensor readTensor(ByteReader& in, const std::string& where) {
    HarvestedTensor entry;
    entry.layer = static_cast<int>(static_cast<std::int64_t>(in.number()));
    entry.name = std::string(in.text());
    const std::uint64_t type = in.number();
    if (type > static_cast<std::uint64_t>(DType::Bool))
        throw Error(where + ": the reading process sent back an unknown type");
    Shape shape(static_cast<std::size_t>(std::min<std::uint64_t>(in.number(), 64)));
    for (std::int64_t& d : shape) d = static_cast<std::int64_t>(in.number());
    const std::string_view data = in.text();
    const auto dtype = static_cast<DType>(type);
    if (data.size() != static_cast<std::uint64_t>(shapeElements(shape)) * dtypeSize(dtype))
        throw Error(where +
                    ": the reading process sent back a tensor whose size does not match its shape");
    auto storage = std::make_shared<OwnedStorage>(data.size());
    if (!data.empty()) std::memcpy(storage->mutableData(), data.data(), data.size());
    entry.tensor = Tensor(std::move(shape), dtype, std::move(storage));
    return entry;
}

}  // namespace

std::string Harvest::text(const std::string& key) const {
    const auto it = texts.find(key);
    return it == texts.end() ? std::string() : it->second;
}

std::string encodeHarvest(const Harvest& harvest) {
    ByteWriter out;
    out.number(harvest.texts.size());
    for (const auto& [key, value] : harvest.texts) {
        out.text(key);
        out.text(value);
    }
    out.number(harvest.tensors.size());
    for (const HarvestedTensor& entry : harvest.tensors) writeTensor(out, entry);
    return out.take();
}

Harvest decodeHarvest(std::string_view bytes, const std::string& where) {
    ByteReader in(bytes, where);
    Harvest harvest;
    for (std::uint64_t n = in.number(); n > 0; --n) {
        std::string key(in.text());
        harvest.texts[std::move(key)] = std::string(in.text());
    }
    for (std::uint64_t n = in.number(); n > 0; --n)
        harvest.tensors.push_back(readTensor(in, where));
    if (!in.atEnd())
        throw Error(where + ": the reading process sent back more than it should; try again");
    return harvest;
}

Harvest harvestInChildProcess(const std::function<Harvest()>& read, const std::string& where,
                              std::chrono::milliseconds timeout) {
    const std::string bytes =
        runInChildProcess([&] { return encodeHarvest(read()); }, where, timeout);
    return decodeHarvest(bytes, where);
}

}  // namespace cwb
