// Opening network files. The reader is chosen by the file's content (HDF5 signature, zip
// signature, safetensors header), not by its extension: see reader_registry.h, which also
// opens language-model checkpoints.
#pragma once

#include <string>

#include "core/model/model.h"

namespace cwb {

// Loads any supported file: Keras 2 / Keras 3 legacy .h5, Keras 3 .keras, Keras 3
// .weights.h5 and .safetensors (the last two open for inspection, evaluable == false).
// Throws cwb::Error with one actionable line for missing, corrupt or unsupported files.
Model loadModel(const std::string& path);

}  // namespace cwb
