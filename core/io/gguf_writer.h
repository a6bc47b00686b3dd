// Writing GGUF v3 files (the container read by gguf.h): typed metadata key/values, tensor
// infos and tensor data aligned to 32 bytes, as ggml's docs/gguf.md describes the format.
// What a Llama model puts into one is in gguf_llama_writer.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/tensor.h"

namespace cwb {

class GgufWriter {
public:
    // Metadata in the order set; setting a key again replaces its value in place.
    void setString(const std::string& key, const std::string& value);
    void setUInt32(const std::string& key, std::uint32_t value);
    void setFloat32(const std::string& key, float value);
    void setBool(const std::string& key, bool value);
    void setStrings(const std::string& key, const std::vector<std::string>& values);
    void setFloat32s(const std::string& key, const std::vector<float>& values);
    void setInt32s(const std::string& key, const std::vector<std::int32_t>& values);

    // A tensor in any dtype GGUF holds (its bytes are read when the file is written, so the
    // tensor's storage must stay valid until then). The shape is row-major, as Tensor's;
    // GGUF's ne are written reversed. Throws cwb::Error for a dtype GGUF cannot hold, a
    // name used twice, or block rows that are not whole blocks.
    void addTensor(const std::string& name, const Tensor& tensor);

    // Writes the file atomically (core/util/atomic_file.h); `protectedSource` is a file the
    // output must not replace. Throws cwb::Error "<path>: ..." when writing fails.
    void write(const std::string& path, const std::string& protectedSource = {}) const;

    static constexpr std::uint64_t kAlignment = 32;

private:
    struct Entry {
        std::string key;
        std::string encoded;  // the type id and the value, as they go into the file
    };
    struct Item {
        std::string name;
        Tensor tensor;
    };
    std::vector<Entry> m_metadata;
    std::vector<Item> m_tensors;

    void set(const std::string& key, std::string encoded);
};

}  // namespace cwb
