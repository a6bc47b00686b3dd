// IDX files (the MNIST family's format, optionally gzipped) and the Fashion-MNIST data set
// as Debian's dataset-fashion-mnist installs it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/tensor.h"

namespace cwb {

inline constexpr const char* kDefaultDatasetDir = "/usr/share/datasets/fashion-mnist";

// An IDX file's contents: its dimensions and its unsigned-byte payload.
struct IdxArray {
    Shape dims;
    std::vector<std::uint8_t> values;
};

// Reads an IDX file of unsigned bytes (type 0x08), gzipped or not. Throws cwb::Error with
// the path and what is wrong for anything else.
IdxArray readIdx(const std::string& path);
// Parses IDX bytes already in memory; `where` names them in errors.
IdxArray parseIdx(const std::vector<std::uint8_t>& bytes, const std::string& where);

enum class Split { Train, Test };

// Images as float32 in [0, 1] (x / 255), one row of H*W per sample, in file order.
struct Dataset {
    std::string name;  // e.g. "Fashion-MNIST test"
    int rows = 28, cols = 28;
    std::vector<float> images;
    std::vector<std::uint8_t> labels;
    int classes = 10;

    int size() const { return static_cast<int>(labels.size()); }
    int pixelsPerImage() const { return rows * cols; }
    const float* image(int i) const {
        return images.data() + static_cast<std::size_t>(i) * rows * cols;
    }
};

// Loads a split from `dir` (t10k-* or train-*, .gz or plain). limit > 0 keeps the first
// `limit` samples. A missing data set names the Debian package to install.
Dataset loadFashionMnist(const std::string& dir, Split split, int limit = 0);

}  // namespace cwb
