// Chooses a reader by file content (see model_loader.h).
#include "core/io/model_loader.h"

#include "core/error.h"

namespace cwb {

Model loadModel(const std::string& path) {
    throw Error(path + ": no reader yet");
}

}  // namespace cwb
