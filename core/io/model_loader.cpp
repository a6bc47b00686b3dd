// Chooses a reader by file content (see model_loader.h).
#include "core/io/model_loader.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/io/file_bytes.h"
#include "core/io/keras_h5.h"
#include "core/io/keras_zip.h"
#include "core/io/safetensors.h"

namespace cwb {

namespace {

Model readModel(const std::string& path) {
    regularFileSize(path);  // "file not found" / "not a regular file" before anything else
    const std::string head = readFilePrefix(path, 9);
    if (head.rfind("\x89HDF\r\n\x1a\n", 0) == 0) return loadKerasH5(path);
    if (head.rfind("PK\x03\x04", 0) == 0) return loadKerasZip(path);
    // safetensors has no magic number: an 8-byte length, then the JSON header's '{'.
    if (head.size() == 9 && head[8] == '{') return loadSafetensors(path);
    throw Error(path +
                ": not a recognised model file; supported: Keras .h5, Keras 3 .keras and "
                ".weights.h5, .safetensors");
}

}  // namespace

Model loadModel(const std::string& path) {
    try {
        return readModel(path);
    } catch (const nlohmann::json::exception& e) {
        // The readers check every field they use; this is the net under a check they lack.
        throw Error(path + ": the model's JSON is malformed (" + e.what() +
                    "); the file is corrupt");
    }
}

}  // namespace cwb
