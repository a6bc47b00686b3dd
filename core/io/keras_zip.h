// Keras 3 .keras files: a zip of config.json, metadata.json and model.weights.h5.
#pragma once

#include <string>

#include "core/model/model.h"

namespace cwb {

// Throws cwb::Error "<path>: ..." for anything that is not a readable Keras 3 model.
Model loadKerasZip(const std::string& path);

}  // namespace cwb
