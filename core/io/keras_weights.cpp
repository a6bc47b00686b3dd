// Keras layer weights: their roles and names, assignment with checks, the trip through a
// reading child process, and the finished Model (see keras_weights.h).
#include "core/io/keras_weights.h"

#include <algorithm>

#include "core/error.h"
#include "core/io/tensor_checks.h"

namespace cwb {

std::string kerasSnakeCase(const std::string& className) {
    // keras.src.utils.naming.to_snake_case, whose three regex substitutions are spelled out
    // by hand: std::regex keeps static state, and this runs in probe children (fork).
    const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
    const auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
    std::string name;  // re.sub(r"\W+", "", name)
    for (const char c : className)
        if (upper(c) || lower(c) || (c >= '0' && c <= '9') || c == '_') name += c;
    std::string step;  // re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    for (std::size_t p = 0; p < name.size();) {
        if (p + 2 < name.size() && upper(name[p + 1]) && lower(name[p + 2])) {
            std::size_t end = p + 2;
            while (end < name.size() && lower(name[end])) ++end;
            step.append(1, name[p]).append(1, '_').append(name, p + 1, end - p - 1);
            p = end;
        } else {
            step += name[p++];
        }
    }
    name.clear();  // re.sub("([a-z])([A-Z])", r"\1_\2", name)
    for (std::size_t p = 0; p < step.size();) {
        if (p + 1 < step.size() && lower(step[p]) && upper(step[p + 1])) {
            name.append(1, step[p]).append(1, '_').append(1, step[p + 1]);
            p += 2;
        } else {
            name += step[p++];
        }
    }
    for (char& c : name)
        if (upper(c)) c = static_cast<char>(c - 'A' + 'a');
    return name;
}

std::vector<std::string> kerasWeightRoles(const Layer& layer) {
    std::vector<std::string> roles;
    if (layer.hasKernel()) {
        roles.push_back("kernel");
        if (layer.useBias) roles.push_back("bias");
    } else if (layer.kind == LayerKind::BatchNormalization) {
        if (layer.batchNorm.scale) roles.push_back("gamma");
        if (layer.batchNorm.center) roles.push_back("beta");
        roles.push_back("moving_mean");
        roles.push_back("moving_variance");
    }
    return roles;
}

std::string layerWhere(const std::string& file, const Layer& layer) {
    return file + ": layer '" + layer.name + "' (" + layer.className + ")";
}

namespace {

Tensor* weightSlot(Layer& layer, const std::string& role) {
    if (role == "kernel") return &layer.kernel;
    if (role == "bias") return &layer.bias;
    if (role == "gamma") return &layer.gamma;
    if (role == "beta") return &layer.beta;
    if (role == "moving_mean") return &layer.movingMean;
    if (role == "moving_variance") return &layer.movingVariance;
    return nullptr;
}

}  // namespace

const Tensor& kerasWeight(const Layer& layer, const std::string& role) {
    static const Tensor none;
    const Tensor* slot = weightSlot(const_cast<Layer&>(layer), role);
    return slot ? *slot : none;
}

void harvestKerasWeights(const KerasArchitecture& architecture, Harvest& harvest) {
    for (std::size_t i = 0; i < architecture.layers.size(); ++i)
        for (const std::string& role : kerasWeightRoles(architecture.layers[i]))
            if (const Tensor& weight = kerasWeight(architecture.layers[i], role); !weight.empty())
                harvest.tensors.push_back({static_cast<int>(i), role, weight});
}

void assignHarvestedWeights(KerasArchitecture& architecture, const Harvest& harvest,
                            const std::string& file) {
    for (const HarvestedTensor& entry : harvest.tensors) {
        if (entry.layer < 0 || static_cast<std::size_t>(entry.layer) >= architecture.layers.size())
            throw Error(file + ": the reading process sent back a weight for layer " +
                        std::to_string(entry.layer) +
                        ", which the config does not have; try again");
        assignKerasWeight(architecture.layers[static_cast<std::size_t>(entry.layer)], entry.name,
                          entry.tensor, file);
    }
}

namespace {

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out.empty() ? "none" : out;
}

}  // namespace

void assignKerasWeight(Layer& layer, const std::string& role, const Tensor& tensor,
                       const std::string& file) {
    const std::string where = layerWhere(file, layer);
    const auto roles = kerasWeightRoles(layer);
    Tensor* slot = std::find(roles.begin(), roles.end(), role) != roles.end()
                       ? weightSlot(layer, role)
                       : nullptr;
    if (!slot)
        throw Error(where + ": the file has a weight '" + role +
                    "' this layer does not have (expected " + joined(roles) +
                    "); the weights do not match the config");
    if (!slot->empty())
        throw Error(where + ": the file has weight '" + role + "' twice; the file is corrupt");
    Tensor value = tensor.dtype() == DType::F32 ? tensor : tensor.toFloat32();
    requireFinite(value, where + " weight '" + role + "'");
    *slot = std::move(value);
}

Model finishKerasModel(KerasArchitecture arch, const std::string& file, const std::string& format) {
    Model model;
    model.sourcePath = file;
    model.format = format;
    model.evaluable = true;
    model.inputShape = std::move(arch.inputShape);
    model.layers = std::move(arch.layers);
    for (Layer& layer : model.layers)
        for (const std::string& role : kerasWeightRoles(layer))
            if (weightSlot(layer, role)->empty())
                throw Error(layerWhere(file, layer) + ": weight '" + role +
                            "' is missing from the file; the file is incomplete");
    model.inferShapes();
    for (std::size_t i = 0; i < model.layers.size(); ++i) {
        const Layer& layer = model.layers[i];
        const int axis = arch.normalizationAxes[i];
        if (layer.kind == LayerKind::BatchNormalization && axis != -1 &&
            axis != static_cast<int>(layer.inputShape.size()))
            throw Error(layerWhere(file, layer) + ": normalizes axis " + std::to_string(axis) +
                        " of input " + shapeToString(layer.inputShape) +
                        "; only the last (channels) axis is supported");
    }
    return model;
}

}  // namespace cwb
