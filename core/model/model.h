// A loaded network: its layers in execution order, where it came from, and, for
// weights-only files, the raw tensors for inspection.
#pragma once

#include <string>
#include <vector>

#include "core/model/layer.h"

namespace cwb {

struct Model {
    std::string sourcePath;
    std::string format;  // human-readable, e.g. "Keras 2.1.6 full model (.h5)"

    // False for weights-only files: they can be inspected but not run.
    bool evaluable = false;
    std::string notEvaluableReason;

    Shape inputShape;  // per sample, e.g. (28, 28, 1)
    std::vector<Layer> layers;

    // Every tensor in the file under its file name; filled for weights-only files
    // (and may be filled for full models) so `cwb info` can list them.
    std::vector<NamedTensor> tensors;

    // Fills each layer's inputShape/outputShape from inputShape and checks weight shapes.
    // Throws cwb::Error naming the layer when something does not fit.
    void inferShapes();

    long long parameterCount() const;
    double flopsPerSample() const;
    Shape outputShape() const;
    // True when the last layer ends in a softmax (the logits are taken before it).
    bool endsInSoftmax() const;
    // Index of a layer by name, or -1.
    int findLayer(const std::string& name) const;
};

}  // namespace cwb
