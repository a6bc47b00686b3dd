// Keras HDF5 files: Keras 2 / tf.keras full models, Keras 3 "legacy" full models (.h5),
// and weights-only files (Keras 3 .weights.h5, Keras 2 save_weights .h5), which open for
// inspection only.
#pragma once

#include <string>

#include "core/model/model.h"

namespace cwb {

// Throws cwb::Error "<path>: ..." for anything that is not a readable Keras HDF5 file.
Model loadKerasH5(const std::string& path);

}  // namespace cwb
