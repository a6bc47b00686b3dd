// Opens a network through the reader registry (see model_loader.h).
#include "core/io/model_loader.h"

#include <filesystem>

#include "core/error.h"
#include "core/io/reader_registry.h"

namespace cwb {

Model loadModel(const std::string& path) {
    const Reader* reader = findReader(path, ReaderKind::Model);
    if (!reader) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(path, ec))
            throw Error(path + ": is not a regular file; give the path of a model file");
        throw Error(path +
                    ": not a recognised model file; supported: " + readerNames(ReaderKind::Model));
    }
    return std::get<Model>(reader->open(path));
}

}  // namespace cwb
