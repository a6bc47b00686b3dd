// Keras HDF5 reader (see keras_h5.h).
#include "core/io/keras_h5.h"

#include "core/error.h"
#include "core/io/file_bytes.h"
#include "core/io/harvest.h"
#include "core/io/hdf5_file.h"
#include "core/io/hdf5_lock.h"
#include "core/io/keras_config.h"
#include "core/io/keras_weights.h"
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

// Texts under which the child hands over what it found.
constexpr const char* kKind = "kind";
constexpr const char* kConfig = "model_config";
constexpr const char* kVersion = "keras_version";
constexpr const char* kFullModel = "full model";
constexpr const char* kKeras3Weights = "Keras 3 weights";
constexpr const char* kKeras2Weights = "Keras 2 weights";

// Reads the config and every weight, assigning them as the parent will (so that each error
// surfaces in the same order), and hands them over.
Harvest harvestFullModel(hid_t root, const std::string& path) {
    Harvest harvest;
    harvest.texts[kKind] = kFullModel;
    harvest.texts[kConfig] = h5::readString(root, "model_config", path);
    harvest.texts[kVersion] = optionalString(root, "keras_version", path);
    const auto config =
        parseJsonGuarded(harvest.texts[kConfig], path + ": model_config", kMaxConfigDepth);
    KerasArchitecture arch = parseKerasModelConfig(config, path);

    h5::Handle weights = h5::tryOpenGroup(root, "model_weights");
    if (!weights.valid())
        throw Error(path +
                    ": the file has a model_config but no model_weights group; re-save it with its "
                    "weights");
    for (Layer& layer : arch.layers) {
        if (kerasWeightRoles(layer).empty()) continue;
        const std::string where = layerWhere(path, layer);
        h5::Handle group = h5::tryOpenGroup(weights.get(), layer.name);
        if (!group.valid())
            throw Error(where +
                        ": /model_weights has no group for this layer; the file is incomplete");
        // Weight names are paths relative to the layer's group; their layout differs
        // between Keras versions, so they are resolved as written.
        for (const std::string& name : h5::readStrings(group.get(), "weight_names", where))
            assignKerasWeight(layer, weightRole(name),
                              h5::readDataset(group.get(), name, where, true), path);
    }
    harvestKerasWeights(arch, harvest);
    return harvest;
}

// Keras 3 .weights.h5: layers/<key>/vars/<i>, no config.
Harvest harvestKeras3Weights(hid_t layers, const std::string& path) {
    Harvest harvest;
    harvest.texts[kKind] = kKeras3Weights;
    for (const std::string& name : h5::listDatasets(layers, path))
        harvest.tensors.push_back(
            {-1, "layers/" + name, h5::readDataset(layers, name, path, false)});
    return harvest;
}

// Keras 2 save_weights .h5: root layer_names, per-layer weight_names, no config.
Harvest harvestKeras2Weights(hid_t root, const std::string& path) {
    Harvest harvest;
    harvest.texts[kKind] = kKeras2Weights;
    harvest.texts[kVersion] = optionalString(root, "keras_version", path);
    for (const std::string& layerName : h5::readStrings(root, "layer_names", path)) {
        const std::string where = path + ": layer '" + layerName + "'";
        h5::Handle group = h5::tryOpenGroup(root, layerName);
        if (!group.valid())
            throw Error(
                where +
                ": the file lists this layer but has no group for it; the file is incomplete");
        for (const std::string& name : h5::readStrings(group.get(), "weight_names", where))
            harvest.tensors.push_back({-1, name, h5::readDataset(group.get(), name, where, false)});
    }
    return harvest;
}

// Everything HDF5 reads from the file; runs in the child process.
Harvest harvestKerasH5(const std::string& path) {
    h5::Handle file = h5::openFile(path);
    h5::Handle root = h5::checked(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose, path,
                                  "cannot open the root group; the file is corrupt");
    if (h5::hasAttribute(root.get(), "model_config")) return harvestFullModel(root.get(), path);
    if (h5::Handle layers = h5::tryOpenGroup(root.get(), "layers"); layers.valid())
        return harvestKeras3Weights(layers.get(), path);
    if (h5::hasAttribute(root.get(), "layer_names")) return harvestKeras2Weights(root.get(), path);
    throw Error(path +
                ": HDF5 file has no Keras model_config or layers group; it is not a Keras model");
}

Model buildFullModel(const Harvest& harvest, const std::string& path) {
    const auto config =
        parseJsonGuarded(harvest.text(kConfig), path + ": model_config", kMaxConfigDepth);
    KerasArchitecture arch = parseKerasModelConfig(config, path);
    assignHarvestedWeights(arch, harvest, path);
    const std::string version = harvest.text(kVersion);
    std::string format = "Keras";
    if (!version.empty()) format += " " + version;
    format += version.rfind('3', 0) == 0 ? " legacy full model (.h5)" : " full model (.h5)";
    return finishKerasModel(std::move(arch), path, format);
}

Model buildWeightsOnly(Harvest harvest, const std::string& path) {
    const std::string version = harvest.text(kVersion);
    Model model;
    model.sourcePath = path;
    model.format =
        harvest.text(kKind) == kKeras3Weights
            ? "Keras 3 weights only (.weights.h5)"
            : "Keras " + (version.empty() ? std::string() : version + " ") + "weights only (.h5)";
    model.evaluable = false;
    model.notEvaluableReason = kWeightsOnly;
    for (HarvestedTensor& entry : harvest.tensors)
        model.tensors.push_back({std::move(entry.name), std::move(entry.tensor)});
    return model;
}

}  // namespace

Model loadKerasH5(const std::string& path) {
    const std::uint64_t size = regularFileSize(path);
    Harvest harvest;
    {
        const auto lock = lockHdf5();
        harvest = harvestInChildProcess([&] { return harvestKerasH5(path); }, path,
                                        h5::hdf5ReadTimeout(size));
    }
    if (harvest.text(kKind) == kFullModel) return buildFullModel(harvest, path);
    return buildWeightsOnly(std::move(harvest), path);
}

}  // namespace cwb
