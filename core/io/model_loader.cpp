// Opens a network through the reader registry (see model_loader.h).
#include "core/io/model_loader.h"

#include "core/error.h"
#include "core/io/reader_registry.h"

namespace cwb {

Model loadModel(const std::string& path) {
    Loaded loaded = openFile(path);
    if (auto* model = std::get_if<Model>(&loaded)) return std::move(*model);
    const auto& checkpoint = std::get<LlamaCheckpoint>(loaded);
    throw Error(path + ": is a language-model checkpoint (" + checkpoint.format +
                "), not a Keras network; give a Keras .h5, .keras or .safetensors file");
}

}  // namespace cwb
