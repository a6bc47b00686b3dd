// Keras HDF5 reader (see keras_h5.h).
#include "core/io/keras_h5.h"

#include "core/error.h"
#include "core/io/file_bytes.h"
#include "core/io/hdf5_file.h"
#include "core/io/hdf5_lock.h"
#include "core/io/keras_config.h"
#include "core/util/child_probe.h"
#include "core/util/json_guard.h"

namespace cwb {
namespace {

constexpr const char* kWeightsOnly = "weights only: the file has no architecture";
constexpr int kMaxConfigDepth = 256;

// "sequential_1/dense_3/kernel" and "conv2d_1/kernel:0" both name the role "kernel".
std::string weightRole(const std::string& weightName) {
    std::string role = weightName.substr(weightName.find_last_of('/') + 1);
    if (const auto colon = role.find(':'); colon != std::string::npos) role.erase(colon);
    return role;
}

std::string optionalString(hid_t object, const std::string& name, const std::string& where) {
    return h5::hasAttribute(object, name) ? h5::readString(object, name, where) : std::string();
}

Model loadFullModel(hid_t root, const std::string& path) {
    const std::string configText = h5::readString(root, "model_config", path);
    const auto config = parseJsonGuarded(configText, path + ": model_config", kMaxConfigDepth);
    KerasArchitecture arch = parseKerasModelConfig(config, path);
    const std::string version = optionalString(root, "keras_version", path);

    h5::Handle weights = h5::tryOpenGroup(root, "model_weights");
    if (!weights.valid())
        throw Error(path + ": the file has a model_config but no model_weights group; re-save it with its weights");
    for (Layer& layer : arch.layers) {
        if (kerasWeightRoles(layer).empty()) continue;
        const std::string where = layerWhere(path, layer);
        h5::Handle group = h5::tryOpenGroup(weights.get(), layer.name);
        if (!group.valid()) throw Error(where + ": /model_weights has no group for this layer; the file is incomplete");
        // Weight names are paths relative to the layer's group; their layout differs
        // between Keras versions, so they are resolved as written.
        for (const std::string& name : h5::readStrings(group.get(), "weight_names", where))
            assignKerasWeight(layer, weightRole(name), h5::readDataset(group.get(), name, where, true), path);
    }
    std::string format = "Keras";
    if (!version.empty()) format += " " + version;
    format += version.rfind('3', 0) == 0 ? " legacy full model (.h5)" : " full model (.h5)";
    return finishKerasModel(std::move(arch), path, format);
}

Model weightsOnlyModel(const std::string& path, std::string format) {
    Model model;
    model.sourcePath = path;
    model.format = std::move(format);
    model.evaluable = false;
    model.notEvaluableReason = kWeightsOnly;
    return model;
}

// Keras 3 .weights.h5: layers/<key>/vars/<i>, no config.
Model loadKeras3Weights(hid_t layers, const std::string& path) {
    Model model = weightsOnlyModel(path, "Keras 3 weights only (.weights.h5)");
    for (const std::string& name : h5::listDatasets(layers, path))
        model.tensors.push_back({"layers/" + name, h5::readDataset(layers, name, path, false)});
    return model;
}

// Keras 2 save_weights .h5: root layer_names, per-layer weight_names, no config.
Model loadKeras2Weights(hid_t root, const std::string& path) {
    const std::string version = optionalString(root, "keras_version", path);
    Model model = weightsOnlyModel(path, "Keras " + (version.empty() ? std::string() : version + " ") + "weights only (.h5)");
    for (const std::string& layerName : h5::readStrings(root, "layer_names", path)) {
        const std::string where = path + ": layer '" + layerName + "'";
        h5::Handle group = h5::tryOpenGroup(root, layerName);
        if (!group.valid()) throw Error(where + ": the file lists this layer but has no group for it; the file is incomplete");
        for (const std::string& name : h5::readStrings(group.get(), "weight_names", where))
            model.tensors.push_back({name, h5::readDataset(group.get(), name, where, false)});
    }
    return model;
}

// The whole read, without the lock (held by the caller) so that it can run in a probe child.
Model readKerasH5(const std::string& path) {
    h5::Handle file = h5::openFile(path);
    h5::Handle root = h5::checked(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose, path,
                                  "cannot open the root group; the file is corrupt");
    if (h5::hasAttribute(root.get(), "model_config")) return loadFullModel(root.get(), path);
    if (h5::Handle layers = h5::tryOpenGroup(root.get(), "layers"); layers.valid())
        return loadKeras3Weights(layers.get(), path);
    if (h5::hasAttribute(root.get(), "layer_names")) return loadKeras2Weights(root.get(), path);
    throw Error(path + ": HDF5 file has no Keras model_config or layers group; it is not a Keras model");
}

}  // namespace

Model loadKerasH5(const std::string& path) {
    const std::uint64_t size = regularFileSize(path);
    const auto lock = lockHdf5();
    probeInChildProcess([&] { readKerasH5(path); }, path, h5::hdf5ProbeTimeout(size));
    return readKerasH5(path);
}

}  // namespace cwb
