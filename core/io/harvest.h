// What a reader takes from a file inside a child process (core/util/child_process.h):
// named strings and tensors, encoded as bytes for the trip back to the parent, which
// builds the Model from them without touching the file's format library itself.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/tensor.h"

namespace cwb {

struct HarvestedTensor {
    int layer = -1;    // index into the architecture's layers, or -1 for a file-level tensor
    std::string name;  // the weight's role ("kernel") for a layer, else its path in the file
    Tensor tensor;
};

struct Harvest {
    std::map<std::string, std::string> texts;  // e.g. "model_config", "keras_version"
    std::vector<HarvestedTensor> tensors;

    // The text stored under `key`, or "".
    std::string text(const std::string& key) const;
};

std::string encodeHarvest(const Harvest& harvest);
// Throws cwb::Error "<where>: ..." when the bytes are not a whole encoded Harvest.
Harvest decodeHarvest(std::string_view bytes, const std::string& where);

// Runs `read` in a child process (see child_process.h) and returns what it harvested.
Harvest harvestInChildProcess(const std::function<Harvest()>& read, const std::string& where,
                              std::chrono::milliseconds timeout);

}  // namespace cwb
