// Keras-2-style .h5 writer (see keras_h5_writer.h).
#include "core/io/keras_h5_writer.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/io/hdf5_file.h"
#include "core/io/hdf5_lock.h"
#include "core/io/keras_weights.h"
#include "core/io/tensor_checks.h"
#include "core/util/atomic_file.h"

namespace cwb {
namespace {

using nlohmann::json;

json pairJson(int a, int b) { return json::array({a, b}); }

json paddingJson(Padding padding) { return padding == Padding::Same ? "same" : "valid"; }

// The class a layer is written as: its own when that is what its kind reads back as.
std::string writtenClass(const Layer& layer) {
    static const std::set<std::string> activationClasses{"Activation", "ReLU", "LeakyReLU",
                                                         "Softmax"};
    if (layer.kind == LayerKind::Activation && activationClasses.count(layer.className)) {
        // ReLU/Softmax layers carry only what those classes can express.
        const bool fits =
            layer.className == "Activation" ||
            (layer.className == "ReLU" && (layer.activation == ActivationKind::Relu ||
                                           layer.activation == ActivationKind::Relu6 ||
                                           layer.activation == ActivationKind::LeakyRelu)) ||
            (layer.className == "LeakyReLU" && layer.activation == ActivationKind::LeakyRelu) ||
            (layer.className == "Softmax" && layer.activation == ActivationKind::Softmax);
        if (fits) return layer.className;
    }
    if (layer.kind == LayerKind::Activation && layer.activation == ActivationKind::LeakyRelu &&
        layer.activationAlpha != 0.2f)
        return "LeakyReLU";
    return layerKindName(layer.kind);
}

json fusedActivation(const Layer& layer, const std::string& path) {
    if (layer.activation == ActivationKind::LeakyRelu && layer.activationAlpha != 0.2f)
        throw Error(path + ": layer '" + layer.name + "' has a fused leaky_relu with slope " +
                    std::to_string(layer.activationAlpha) +
                    ", which Keras configs cannot express; "
                    "use a separate LeakyReLU layer");
    return activationName(layer.activation);
}

json layerJson(const Layer& layer, const std::string& path) {
    const std::string cls = writtenClass(layer);
    json c{{"name", layer.name}, {"trainable", true}, {"dtype", "float32"}};
    switch (layer.kind) {
        case LayerKind::Dense:
            c["units"] = layer.units;
            c["activation"] = fusedActivation(layer, path);
            c["use_bias"] = layer.useBias;
            break;
        case LayerKind::Conv2D:
            c["filters"] = layer.conv.filters;
            c["kernel_size"] = pairJson(layer.conv.kernelH, layer.conv.kernelW);
            c["strides"] = pairJson(layer.conv.strideH, layer.conv.strideW);
            c["padding"] = paddingJson(layer.conv.padding);
            c["data_format"] = "channels_last";
            c["dilation_rate"] = pairJson(1, 1);
            c["groups"] = 1;
            c["activation"] = fusedActivation(layer, path);
            c["use_bias"] = layer.useBias;
            break;
        case LayerKind::MaxPooling2D:
        case LayerKind::AveragePooling2D:
            c["pool_size"] = pairJson(layer.pool.poolH, layer.pool.poolW);
            c["padding"] = paddingJson(layer.pool.padding);
            c["strides"] = pairJson(layer.pool.strideH, layer.pool.strideW);
            c["data_format"] = "channels_last";
            break;
        case LayerKind::BatchNormalization:
            c["axis"] = -1;
            c["momentum"] = 0.99;
            c["epsilon"] = layer.batchNorm.epsilon;
            c["center"] = layer.batchNorm.center;
            c["scale"] = layer.batchNorm.scale;
            break;
        case LayerKind::Activation:
            if (cls == "ReLU") {
                c["max_value"] =
                    layer.activation == ActivationKind::Relu6 ? json(6.0) : json(nullptr);
                c["negative_slope"] =
                    layer.activation == ActivationKind::LeakyRelu ? layer.activationAlpha : 0.f;
                c["threshold"] = 0.0;
            } else if (cls == "LeakyReLU") {
                c["alpha"] = layer.activationAlpha;
            } else if (cls == "Softmax") {
                c["axis"] = -1;
            } else {
                c["activation"] = activationName(layer.activation);
            }
            break;
        case LayerKind::Dropout:
            c["rate"] = layer.dropoutRate;
            c["noise_shape"] = nullptr;
            c["seed"] = nullptr;
            break;
        case LayerKind::Flatten:
            c["data_format"] = "channels_last";
            break;
        case LayerKind::Reshape:
            c["target_shape"] = layer.targetShape;
            break;
        case LayerKind::Input:
            break;
    }
    return {{"class_name", cls}, {"config", std::move(c)}};
}

std::string inputLayerName(const Model& model) {
    std::string name = "input_1";
    while (model.findLayer(name) >= 0) name += "_1";
    return name;
}

json modelConfig(const Model& model, const std::string& path) {
    json batchShape = json::array({nullptr});
    for (auto d : model.inputShape) batchShape.push_back(d);
    json layers = json::array();
    layers.push_back({{"class_name", "InputLayer"},
                      {"config",
                       {{"batch_input_shape", batchShape},
                        {"dtype", "float32"},
                        {"sparse", false},
                        {"ragged", false},
                        {"name", inputLayerName(model)}}}});
    for (const Layer& layer : model.layers)
        if (layer.kind != LayerKind::Input) layers.push_back(layerJson(layer, path));
    return {{"class_name", "Sequential"},
            {"config", {{"name", "sequential"}, {"layers", std::move(layers)}}}};
}

// Refuses models that would not load back: no architecture, missing or non-finite weights.
void checkSavable(const Model& model, const std::string& path) {
    if (!model.evaluable || model.layers.empty())
        throw Error(path + ": cannot save " + model.sourcePath + " as a Keras model (" +
                    (model.notEvaluableReason.empty() ? std::string("it has no layers")
                                                      : model.notEvaluableReason) +
                    ")");
    if (model.inputShape.empty())
        throw Error(path + ": cannot save a model without an input shape");
    std::set<std::string> names;
    for (const Layer& layer : model.layers) {
        if (layer.name.empty() || layer.name.find('/') != std::string::npos ||
            !names.insert(layer.name).second)
            throw Error(path + ": layer name '" + layer.name +
                        "' is empty, repeated or contains '/'; cannot save");
        for (const std::string& role : kerasWeightRoles(layer)) {
            const Tensor& weight = kerasWeight(layer, role);
            const std::string where = path + ": layer '" + layer.name + "' weight '" + role + "'";
            if (weight.empty()) throw Error(where + " is missing; cannot save an incomplete model");
            requireFinite(weight, where);
        }
    }
}

// --- HDF5 output -----------------------------------------------------------------------

void writeTextAttribute(hid_t object, const char* name, const std::string& text,
                        const std::string& where) {
    h5::Handle type = h5::checked(H5Tcopy(H5T_C_S1), H5Tclose, where, "cannot write attribute");
    h5::check(H5Tset_size(type.get(), H5T_VARIABLE), where, "cannot write attribute");
    h5::check(H5Tset_cset(type.get(), H5T_CSET_UTF8), where, "cannot write attribute");
    h5::Handle space =
        h5::checked(H5Screate(H5S_SCALAR), H5Sclose, where, "cannot write attribute");
    h5::Handle attribute =
        h5::checked(H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                    H5Aclose, where, std::string("cannot write attribute ") + name);
    const char* data = text.c_str();
    h5::check(H5Awrite(attribute.get(), type.get(), &data), where,
              std::string("cannot write attribute ") + name);
}

// Keras 2 stores name lists as fixed-length byte strings, and an empty list as an empty
// float64 array (what h5py makes of np.array([])).
void writeNameList(hid_t object, const char* name, const std::vector<std::string>& names,
                   const std::string& where) {
    const std::string what = std::string("cannot write attribute ") + name;
    const hsize_t count = names.size();
    h5::Handle space = h5::checked(H5Screate_simple(1, &count, nullptr), H5Sclose, where, what);
    if (names.empty()) {
        h5::Handle attribute = h5::checked(
            H5Acreate2(object, name, H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
            H5Aclose, where, what);
        return;
    }
    std::size_t width = 1;
    for (const auto& n : names) width = std::max(width, n.size());
    h5::Handle type = h5::checked(H5Tcopy(H5T_C_S1), H5Tclose, where, what);
    h5::check(H5Tset_size(type.get(), width), where, what);
    h5::check(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), where, what);
    std::vector<char> buffer(width * names.size(), '\0');
    for (std::size_t i = 0; i < names.size(); ++i)
        std::memcpy(buffer.data() + i * width, names[i].data(), names[i].size());
    h5::Handle attribute =
        h5::checked(H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                    H5Aclose, where, what);
    h5::check(H5Awrite(attribute.get(), type.get(), buffer.data()), where, what);
}

void writeWeight(hid_t group, const std::string& name, const Tensor& tensor,
                 const std::string& where) {
    const std::string what = "cannot write dataset '" + name + "'";
    std::vector<hsize_t> dims(tensor.shape().begin(), tensor.shape().end());
    h5::Handle space =
        h5::checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
                    where, what);
    h5::Handle dataset = h5::checked(H5Dcreate2(group, name.c_str(), H5T_IEEE_F32LE, space.get(),
                                                H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                                     H5Dclose, where, what);
    const std::vector<float> converted =
        tensor.dtype() == DType::F32 ? std::vector<float>() : tensor.toFloatVector();
    const void* data =
        tensor.dtype() == DType::F32 ? static_cast<const void*>(tensor.bytes()) : converted.data();
    if (tensor.elements() > 0)
        h5::check(H5Dwrite(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
                  where, what);
}

h5::Handle createGroup(hid_t parent, const std::string& name, const std::string& where) {
    return h5::checked(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                       H5Gclose, where, "cannot create group '" + name + "'");
}

void writeFile(const Model& model, const std::string& configText, const std::string& temp,
               const std::string& path) {
    const std::string where = path;
    h5::Handle access =
        h5::checked(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, where, "cannot set up the file");
    // The 1.8 format stores attributes above 64 KiB (large model_configs) and is read by
    // every h5py in use.
    h5::check(H5Pset_libver_bounds(access.get(), H5F_LIBVER_V18, H5F_LIBVER_V18), where,
              "cannot set up the file");
    h5::Handle file = h5::checked(H5Fcreate(temp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()),
                                  H5Fclose, where, "cannot create the file");
    {
        h5::Handle root = h5::checked(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose, where,
                                      "cannot open the root group");
        writeTextAttribute(root.get(), "keras_version", kWrittenKerasVersion, where);
        writeTextAttribute(root.get(), "backend", "tensorflow", where);
        writeTextAttribute(root.get(), "model_config", configText, where);

        h5::Handle weights = createGroup(root.get(), "model_weights", where);
        std::vector<std::string> layerNames;
        for (const Layer& layer : model.layers)
            if (layer.kind != LayerKind::Input) layerNames.push_back(layer.name);
        writeNameList(weights.get(), "layer_names", layerNames, where);
        writeTextAttribute(weights.get(), "backend", "tensorflow", where);
        writeTextAttribute(weights.get(), "keras_version", kWrittenKerasVersion, where);
        for (const Layer& layer : model.layers) {
            if (layer.kind == LayerKind::Input) continue;
            h5::Handle group = createGroup(weights.get(), layer.name, where);
            const auto roles = kerasWeightRoles(layer);
            std::vector<std::string> weightNames;
            for (const auto& role : roles) weightNames.push_back(layer.name + "/" + role + ":0");
            writeNameList(group.get(), "weight_names", weightNames, where);
            if (roles.empty()) continue;
            h5::Handle inner = createGroup(group.get(), layer.name, where);
            for (const auto& role : roles)
                writeWeight(inner.get(), role + ":0", kerasWeight(layer, role),
                            where + ": layer '" + layer.name + "'");
        }
    }
    if (file.close() < 0) h5::fail(where, "cannot finish writing the file (disk full?)");
}

}  // namespace

void saveKerasH5(const Model& model, const std::string& path) {
    checkSavable(model, path);
    const std::string configText = modelConfig(model, path).dump();
    const auto lock = lockHdf5();
    writeFileAtomically(
        path, [&](const std::string& temp) { writeFile(model, configText, temp, path); },
        model.sourcePath);
}

}  // namespace cwb
