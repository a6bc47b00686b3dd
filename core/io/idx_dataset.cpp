// IDX reader and Fashion-MNIST loader (see idx_dataset.h).
#include "core/io/idx_dataset.h"

#include <zlib.h>

#include <filesystem>
#include <limits>
#include <memory>

#include "core/error.h"
#include "core/util/memory.h"

namespace cwb {
namespace {

constexpr std::size_t kMaxIdxBytes = std::size_t(1) << 32;  // 4 GiB: far above any data set

std::vector<std::uint8_t> readMaybeGzipped(const std::string& path) {
    // Reads plain files transparently too; closed on every path out, errors included.
    const std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), gzclose);
    if (!file) throw Error(path + ": cannot open file");
    std::vector<std::uint8_t> bytes;
    std::uint8_t buffer[1 << 16];
    for (;;) {
        const int got = gzread(file.get(), buffer, sizeof buffer);
        if (got < 0) throw Error(path + ": corrupt gzip data; reinstall the data set");
        if (got == 0) break;
        if (bytes.size() + static_cast<std::size_t>(got) > bytes.capacity()) {
            // A gzip bomb inflates without end: grow only into memory that exists.
            const std::size_t grown = 2 * (bytes.size() + static_cast<std::size_t>(got));
            ensureFitsInMemory(grown, path + ": decompressing");
            bytes.reserve(grown);
        }
        bytes.insert(bytes.end(), buffer, buffer + got);
        if (bytes.size() > kMaxIdxBytes)
            throw Error(path + ": more than 4 GiB of IDX data; this is not an IDX file");
    }
    return bytes;
}

std::string findSplitFile(const std::string& dir, const std::string& stem) {
    for (const char* suffix : {".gz", ""}) {
        const std::string path = dir + "/" + stem + suffix;
        if (std::filesystem::exists(path)) return path;
    }
    throw Error("Fashion-MNIST not found: " + dir + "/" + stem +
                ".gz is missing; install it with: sudo apt-get install dataset-fashion-mnist");
}

}  // namespace

IdxArray parseIdx(const std::vector<std::uint8_t>& bytes, const std::string& where) {
    if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0)
        throw Error(where + ": not an IDX file (bad magic number)");
    if (bytes[2] != 0x08)
        throw Error(where + ": IDX element type 0x" + std::to_string(bytes[2]) +
                    " is not supported; only unsigned bytes (0x08) are");
    const int rank = bytes[3];
    if (rank == 0 || bytes.size() < 4 + 4 * static_cast<std::size_t>(rank))
        throw Error(where + ": IDX header is truncated");
    IdxArray out;
    unsigned long long total = 1;
    for (int d = 0; d < rank; ++d) {
        const std::uint8_t* p = &bytes[4 + 4 * d];
        const std::uint32_t dim = (std::uint32_t(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
        out.dims.push_back(dim);
        if (dim != 0 && total > std::numeric_limits<std::uint32_t>::max() / dim)
            throw Error(where + ": IDX dimensions overflow");
        total *= dim;
    }
    const std::size_t header = 4 + 4 * static_cast<std::size_t>(rank);
    if (bytes.size() - header != total)
        throw Error(where + ": IDX holds " + std::to_string(bytes.size() - header) +
                    " bytes of data, its header says " + std::to_string(total));
    out.values.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
    return out;
}

IdxArray readIdx(const std::string& path) { return parseIdx(readMaybeGzipped(path), path); }

Dataset loadFashionMnist(const std::string& dir, Split split, int limit) {
    const std::string prefix = split == Split::Test ? "t10k" : "train";
    const std::string imagePath = findSplitFile(dir, prefix + "-images-idx3-ubyte");
    const std::string labelPath = findSplitFile(dir, prefix + "-labels-idx1-ubyte");
    const IdxArray images = readIdx(imagePath);
    const IdxArray labels = readIdx(labelPath);
    if (images.dims.size() != 3) throw Error(imagePath + ": expected 3 dimensions (N, H, W)");
    if (labels.dims.size() != 1 || labels.dims[0] != images.dims[0])
        throw Error(labelPath + ": label count does not match " + imagePath);

    Dataset data;
    data.name = std::string("Fashion-MNIST ") + (split == Split::Test ? "test" : "train");
    data.rows = static_cast<int>(images.dims[1]);
    data.cols = static_cast<int>(images.dims[2]);
    long long count = images.dims[0];
    if (limit > 0 && limit < count) count = limit;
    const std::size_t pixels = static_cast<std::size_t>(count) * data.rows * data.cols;
    data.images.resize(pixels);
    for (std::size_t i = 0; i < pixels; ++i) data.images[i] = images.values[i] / 255.0f;
    data.labels.assign(labels.values.begin(), labels.values.begin() + count);
    for (auto label : data.labels)
        if (label >= data.classes)
            throw Error(labelPath + ": label " + std::to_string(label) + " is out of range 0..9");
    return data;
}

}  // namespace cwb
