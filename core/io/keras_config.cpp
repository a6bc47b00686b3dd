// Keras model config parsing (see keras_config.h).
#include "core/io/keras_config.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>

#include "core/error.h"

namespace cwb {
namespace {

using nlohmann::json;

constexpr const char* kSupportedLayers =
    "InputLayer, Dense, Conv2D, MaxPooling2D, AveragePooling2D, BatchNormalization, Activation, "
    "ReLU, LeakyReLU, Softmax, Dropout, Flatten, Reshape";
constexpr int kMaxDimension = 1 << 30;

// Where a config value came from, for error messages.
struct Context {
    const std::string& file;
    std::string name;
    std::string className;

    [[noreturn]] void fail(const std::string& what) const {
        if (name.empty() && className.empty()) throw Error(file + ": " + what);
        throw Error(file + ": layer '" + name + "' (" + className + "): " + what);
    }
};

// The value of `key`, or nullptr when it is absent or null.
const json* field(const json& config, const char* key) {
    if (!config.is_object()) return nullptr;
    const auto it = config.find(key);
    return it == config.end() || it->is_null() ? nullptr : &*it;
}

long long integerValue(const Context& ctx, const json& value, const char* key) {
    if (value.is_number_unsigned()) {  // above LLONG_MAX it would wrap, e.g. to -1
        if (value.get<std::uint64_t>() <=
            static_cast<std::uint64_t>(std::numeric_limits<long long>::max()))
            return static_cast<long long>(value.get<std::uint64_t>());
    } else if (value.is_number_integer()) {
        return value.get<long long>();
    } else if (value.is_number_float()) {  // Keras 1/2 sometimes wrote sizes as floats
        const double d = value.get<double>();
        // Range first: converting an out-of-range double to an integer is undefined.
        if (d >= -9.0e18 && d <= 9.0e18 && d == std::trunc(d)) return static_cast<long long>(d);
    }
    ctx.fail(std::string("config field '") + key + "' must be an integer, got " + value.dump());
}

int intField(const Context& ctx, const json& config, const char* key, int fallback, int low,
             int high) {
    const json* value = field(config, key);
    if (!value) return fallback;
    const long long v = integerValue(ctx, *value, key);
    if (v < low || v > high)
        ctx.fail(std::string("config field '") + key + "' is " + std::to_string(v) + ", outside " +
                 std::to_string(low) + ".." + std::to_string(high));
    return static_cast<int>(v);
}

int requiredIntField(const Context& ctx, const json& config, const char* key, int low, int high) {
    if (!field(config, key)) ctx.fail(std::string("config field '") + key + "' is missing");
    return intField(ctx, config, key, 0, low, high);
}

double numberField(const Context& ctx, const json& config, const char* key, double fallback) {
    const json* value = field(config, key);
    if (!value) return fallback;
    if (!value->is_number())
        ctx.fail(std::string("config field '") + key + "' must be a number, got " + value->dump());
    return value->get<double>();
}

bool boolField(const Context& ctx, const json& config, const char* key, bool fallback) {
    const json* value = field(config, key);
    if (!value) return fallback;
    if (!value->is_boolean())
        ctx.fail(std::string("config field '") + key + "' must be true or false, got " +
                 value->dump());
    return value->get<bool>();
}

std::string stringField(const Context& ctx, const json& config, const char* key,
                        const std::string& fallback) {
    const json* value = field(config, key);
    if (!value) return fallback;
    if (!value->is_string())
        ctx.fail(std::string("config field '") + key + "' must be text, got " + value->dump());
    return value->get<std::string>();
}

// A Keras "int or tuple of 2 ints" such as kernel_size or strides.
std::pair<int, int> pairField(const Context& ctx, const json& config, const char* key,
                              std::pair<int, int> fallback) {
    const json* value = field(config, key);
    if (!value) return fallback;
    auto checkedValue = [&](const json& v) {
        const long long n = integerValue(ctx, v, key);
        if (n < 1 || n > kMaxDimension)
            ctx.fail(std::string("config field '") + key + "' has value " + std::to_string(n) +
                     ", expected a positive size");
        return static_cast<int>(n);
    };
    if (value->is_array()) {
        if (value->size() != 2)
            ctx.fail(std::string("config field '") + key + "' must hold 2 values, got " +
                     value->dump());
        return {checkedValue((*value)[0]), checkedValue((*value)[1])};
    }
    const int n = checkedValue(*value);
    return {n, n};
}

Padding paddingField(const Context& ctx, const json& config) {
    const std::string padding = stringField(ctx, config, "padding", "valid");
    if (padding == "valid") return Padding::Valid;
    if (padding == "same") return Padding::Same;
    ctx.fail("padding '" + padding + "' is not supported; use 'valid' or 'same'");
}

void requireChannelsLast(const Context& ctx, const json& config) {
    const std::string format = stringField(ctx, config, "data_format", "channels_last");
    if (format != "channels_last")
        ctx.fail(
            "data_format '" + format +
            "' is not supported; only channels_last is (re-save the model with channels_last)");
}

// Per-sample shape from a batched shape such as [null, 28, 28, 1].
Shape perSampleShape(const Context& ctx, const json& batched, const char* key) {
    if (!batched.is_array() || batched.empty())
        ctx.fail(std::string("input shape '") + key +
                 "' must be a list like [null, 28, 28, 1], got " + batched.dump());
    Shape shape;
    for (std::size_t i = 1; i < batched.size(); ++i) {
        if (batched[i].is_null())
            ctx.fail("input shape " + batched.dump() +
                     " has an unknown dimension; only fixed input sizes are supported");
        const long long d = integerValue(ctx, batched[i], key);
        if (d < 1 || d > kMaxDimension)
            ctx.fail("input shape " + batched.dump() + " has an invalid dimension");
        shape.push_back(d);
    }
    if (shape.empty())
        ctx.fail("input shape " + batched.dump() + " has no dimensions besides the batch");
    return shape;
}

// Input shape declared on a layer config (InputLayer, or any first layer in Keras 2).
bool declaredInputShape(const Context& ctx, const json& config, Shape& out) {
    for (const char* key : {"batch_input_shape", "batch_shape"}) {
        if (const json* value = field(config, key)) {
            out = perSampleShape(ctx, *value, key);
            return true;
        }
    }
    return false;
}

ActivationKind activationField(const Context& ctx, const json& config, float& alpha) {
    const json* value = field(config, "activation");
    if (!value) return ActivationKind::Linear;
    std::string name;
    if (value->is_string()) {
        name = value->get<std::string>();
    } else if (value->is_object()) {  // Keras 3: {"module": "keras.activations", "config": "relu",
                                      // ...}
        if (const json* inner = field(*value, "config"); inner && inner->is_string())
            name = inner->get<std::string>();
        else if (const json* registered = field(*value, "registered_name");
                 registered && registered->is_string())
            name = registered->get<std::string>();
        else if (const json* cls = field(*value, "class_name"); cls && cls->is_string())
            name = cls->get<std::string>();
    }
    if (name.empty()) ctx.fail("activation " + value->dump() + " is not supported");
    ActivationKind kind;
    if (!parseActivation(name, kind))
        ctx.fail("activation '" + name +
                 "' is not supported; supported activations: linear, relu, softmax, sigmoid, "
                 "tanh, elu, selu, softplus, softsign, swish (silu), gelu, hard_sigmoid, relu6, "
                 "exponential, leaky_relu");
    if (kind == ActivationKind::LeakyRelu)
        alpha = 0.2f;  // keras.activations.leaky_relu's default slope
    return kind;
}

int normalizationAxis(const Context& ctx, const json& config) {
    const json* value = field(config, "axis");
    if (!value) return -1;
    const json* single = value;
    if (value->is_array()) {  // tf.keras writes [3]
        if (value->size() != 1)
            ctx.fail("normalizes over axes " + value->dump() + "; only the last axis is supported");
        single = &(*value)[0];
    }
    const long long axis = integerValue(ctx, *single, "axis");
    if (axis == -1) return -1;
    if (axis < 1 || axis > 32)
        ctx.fail("normalizes axis " + std::to_string(axis) +
                 "; only the last (channels) axis is supported");
    return static_cast<int>(axis);
}

Layer parseLayer(const Context& ctx, const json& config, int& axis) {
    Layer layer;
    layer.name = ctx.name;
    layer.className = ctx.className;
    const std::string& cls = ctx.className;
    if (cls == "Dense") {
        layer.kind = LayerKind::Dense;
        layer.units = requiredIntField(ctx, config, "units", 1, kMaxDimension);
        layer.activation = activationField(ctx, config, layer.activationAlpha);
        layer.useBias = boolField(ctx, config, "use_bias", true);
    } else if (cls == "Conv2D") {
        layer.kind = LayerKind::Conv2D;
        requireChannelsLast(ctx, config);
        layer.conv.filters = requiredIntField(ctx, config, "filters", 1, kMaxDimension);
        if (!field(config, "kernel_size")) ctx.fail("config field 'kernel_size' is missing");
        std::tie(layer.conv.kernelH, layer.conv.kernelW) =
            pairField(ctx, config, "kernel_size", {1, 1});
        std::tie(layer.conv.strideH, layer.conv.strideW) =
            pairField(ctx, config, "strides", {1, 1});
        layer.conv.padding = paddingField(ctx, config);
        if (pairField(ctx, config, "dilation_rate", {1, 1}) != std::pair<int, int>{1, 1})
            ctx.fail("dilation_rate " + field(config, "dilation_rate")->dump() +
                     " is not supported; only 1 is");
        if (const int groups = intField(ctx, config, "groups", 1, 1, kMaxDimension); groups != 1)
            ctx.fail("groups = " + std::to_string(groups) + " is not supported; only 1 is");
        layer.activation = activationField(ctx, config, layer.activationAlpha);
        layer.useBias = boolField(ctx, config, "use_bias", true);
    } else if (cls == "MaxPooling2D" || cls == "AveragePooling2D") {
        layer.kind = cls == "MaxPooling2D" ? LayerKind::MaxPooling2D : LayerKind::AveragePooling2D;
        requireChannelsLast(ctx, config);
        std::tie(layer.pool.poolH, layer.pool.poolW) = pairField(ctx, config, "pool_size", {2, 2});
        // Keras: strides=None means strides = pool_size.
        std::tie(layer.pool.strideH, layer.pool.strideW) =
            pairField(ctx, config, "strides", {layer.pool.poolH, layer.pool.poolW});
        layer.pool.padding = paddingField(ctx, config);
    } else if (cls == "BatchNormalization") {
        layer.kind = LayerKind::BatchNormalization;
        axis = normalizationAxis(ctx, config);
        const double epsilon = numberField(ctx, config, "epsilon", 1e-3);
        if (!(epsilon > 0) || epsilon > 1e3)
            ctx.fail("epsilon " + std::to_string(epsilon) + " is not a small positive number");
        layer.batchNorm.epsilon = static_cast<float>(epsilon);
        layer.batchNorm.center = boolField(ctx, config, "center", true);
        layer.batchNorm.scale = boolField(ctx, config, "scale", true);
    } else if (cls == "Activation") {
        layer.kind = LayerKind::Activation;
        if (!field(config, "activation")) ctx.fail("config field 'activation' is missing");
        layer.activation = activationField(ctx, config, layer.activationAlpha);
    } else if (cls == "ReLU") {
        layer.kind = LayerKind::Activation;
        const json* maxValue = field(config, "max_value");
        const double slope = numberField(ctx, config, "negative_slope", 0.0);
        if (numberField(ctx, config, "threshold", 0.0) != 0.0)
            ctx.fail("a non-zero threshold is not supported");
        if (maxValue && !(maxValue->is_number() && maxValue->get<double>() == 6.0))
            ctx.fail("max_value " + maxValue->dump() + " is not supported; only none or 6 is");
        if (maxValue && slope != 0.0)
            ctx.fail("max_value together with negative_slope is not supported");
        layer.activation = maxValue       ? ActivationKind::Relu6
                           : slope != 0.0 ? ActivationKind::LeakyRelu
                                          : ActivationKind::Relu;
        layer.activationAlpha = static_cast<float>(slope);
    } else if (cls == "LeakyReLU") {
        layer.kind = LayerKind::Activation;
        layer.activation = ActivationKind::LeakyRelu;
        // Keras 2 calls the slope alpha, Keras 3 negative_slope; both default to 0.3.
        const double slope = field(config, "negative_slope")
                                 ? numberField(ctx, config, "negative_slope", 0.3)
                                 : numberField(ctx, config, "alpha", 0.3);
        layer.activationAlpha = static_cast<float>(slope);
    } else if (cls == "Softmax") {
        layer.kind = LayerKind::Activation;
        layer.activation = ActivationKind::Softmax;
        const json* axisValue = field(config, "axis");
        if (axisValue && !(*axisValue == json(-1) || *axisValue == json::array({-1})))
            ctx.fail("softmax over axis " + axisValue->dump() +
                     " is not supported; only the last axis is");
    } else if (cls == "Dropout") {
        layer.kind = LayerKind::Dropout;
        const double rate = numberField(ctx, config, "rate", 0.0);
        if (!(rate >= 0.0 && rate < 1.0))
            ctx.fail("dropout rate " + std::to_string(rate) + " is outside [0, 1)");
        layer.dropoutRate = static_cast<float>(rate);
    } else if (cls == "Flatten") {
        layer.kind = LayerKind::Flatten;
        requireChannelsLast(ctx, config);
    } else if (cls == "Reshape") {
        layer.kind = LayerKind::Reshape;
        const json* target = field(config, "target_shape");
        if (!target || !target->is_array() || target->empty())
            ctx.fail("config field 'target_shape' must be a list of sizes");
        int unknown = 0;
        for (const json& d : *target) {
            const long long v = integerValue(ctx, d, "target_shape");
            if (v == -1)
                ++unknown;
            else if (v < 1 || v > kMaxDimension)
                ctx.fail("target_shape " + target->dump() + " has an invalid size");
            layer.targetShape.push_back(v);
        }
        if (unknown > 1) ctx.fail("target_shape " + target->dump() + " has more than one -1");
    } else {
        throw Error(ctx.file + ": layer '" + ctx.name + "' (" + cls +
                    ") is not supported; supported layers: " + kSupportedLayers);
    }
    return layer;
}

// Names of the layers whose outputs feed one call (node) of a layer. Keras 3 nodes are
// {"args": [...], "kwargs": {...}} holding __keras_tensor__ objects; Keras 2 nodes are lists
// of [layer_name, node_index, tensor_index, kwargs].
void collectKerasTensors(const json& value, std::vector<std::string>& names, int depth) {
    if (depth > 64) return;
    if (value.is_object()) {
        if (value.value("class_name", json()) == "__keras_tensor__") {
            const json* config = field(value, "config");
            const json* history = config ? field(*config, "keras_history") : nullptr;
            if (history && history->is_array() && !history->empty() && (*history)[0].is_string())
                names.push_back((*history)[0].get<std::string>());
            return;
        }
        for (const auto& item : value.items()) collectKerasTensors(item.value(), names, depth + 1);
    } else if (value.is_array()) {
        for (const json& item : value) collectKerasTensors(item, names, depth + 1);
    }
}

std::vector<std::string> nodeInputs(const json& node) {
    std::vector<std::string> names;
    if (node.is_array()) {
        for (const json& entry : node)
            if (entry.is_array() && !entry.empty() && entry[0].is_string())
                names.push_back(entry[0].get<std::string>());
    } else {
        collectKerasTensors(node, names, 0);
    }
    return names;
}

std::string layerName(const json& entry) {
    const json* config = field(entry, "config");
    if (const json* name = config ? field(*config, "name") : nullptr; name && name->is_string())
        return name->get<std::string>();
    if (const json* name = field(entry, "name"); name && name->is_string())
        return name->get<std::string>();
    return {};
}

// The entry's class_name if it is text; `fallback` otherwise (the callers report it).
std::string classNameOf(const json& entry, const std::string& fallback) {
    const json* cls = field(entry, "class_name");
    return cls && cls->is_string() ? cls->get<std::string>() : fallback;
}

// Functional models are accepted only when every layer takes exactly the previous one's output.
void requirePlainChain(const json& entries, const json& modelConfig, const std::string& file) {
    std::string previous;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const json& entry = entries[i];
        const std::string name = layerName(entry);
        const Context ctx{file, name, classNameOf(entry, "?")};
        const json* nodes = field(entry, "inbound_nodes");
        const std::size_t calls = nodes && nodes->is_array() ? nodes->size() : 0;
        if (i == 0) {
            if (ctx.className != "InputLayer")
                ctx.fail("a functional model must start with an InputLayer");
        } else {
            if (ctx.className == "InputLayer")
                ctx.fail("the model has several inputs; only single-input chains are supported");
            if (calls != 1)
                ctx.fail("is called " + std::to_string(calls) +
                         " times (a shared layer); only plain chains of layers are supported");
            const auto inputs = nodeInputs((*nodes)[0]);
            if (inputs.size() != 1)
                ctx.fail("takes " + std::to_string(inputs.size()) +
                         " inputs; models with branches or merge layers are not supported");
            if (inputs[0] != previous)
                ctx.fail("takes its input from '" + inputs[0] +
                         "' rather than from the layer before it ('" + previous +
                         "'); models with branches are not supported");
        }
        previous = name;
    }
    const json* outputs = field(modelConfig, "output_layers");
    if (outputs && outputs->is_array()) {
        const bool single = outputs->size() == 1 && (*outputs)[0].is_array() &&
                            !(*outputs)[0].empty() && (*outputs)[0][0] == json(previous);
        if (!single)
            throw Error(file + ": the model's outputs " + outputs->dump() +
                        " are not its last layer '" + previous +
                        "'; only single-output chains are supported");
    }
}

// Keras 3 models built without an InputLayer record the shape they were built with.
bool buildInputShape(const Context& ctx, const json& model, const json& modelConfig, Shape& out) {
    if (const json* shape = field(modelConfig, "build_input_shape")) {
        out = perSampleShape(ctx, *shape, "build_input_shape");
        return true;
    }
    const json* build = field(model, "build_config");
    if (const json* shape = build ? field(*build, "input_shape") : nullptr) {
        out = perSampleShape(ctx, *shape, "build_config.input_shape");
        return true;
    }
    return false;
}

}  // namespace

KerasArchitecture parseKerasModelConfig(const json& model, const std::string& file) {
    const Context top{file, "", ""};
    if (!model.is_object()) top.fail("the model config is not a JSON object; the file is corrupt");
    const std::string modelClass = stringField(top, model, "class_name", "");
    const bool functional = modelClass == "Functional" || modelClass == "Model";
    if (modelClass != "Sequential" && !functional)
        top.fail("model class '" + modelClass +
                 "' is not supported; only Sequential models and Functional models "
                 "that are a plain chain of layers are");
    const json* modelConfig = field(model, "config");
    if (!modelConfig) top.fail("the model config has no 'config' entry; the file is corrupt");
    // Keras 2.1 writes a Sequential's config as the bare list of layers.
    const json* entries = modelConfig->is_array() ? modelConfig : field(*modelConfig, "layers");
    if (!entries || !entries->is_array() || entries->empty())
        top.fail("the model config lists no layers");
    if (functional) requirePlainChain(*entries, *modelConfig, file);

    KerasArchitecture arch;
    bool haveInput = false;
    std::set<std::string> names;
    for (std::size_t i = 0; i < entries->size(); ++i) {
        const json& entry = (*entries)[i];
        const json* config = field(entry, "config");
        const json* cls = field(entry, "class_name");
        if (!config || !config->is_object() || !cls || !cls->is_string())
            top.fail("layer " + std::to_string(i) +
                     " of the model config has no class_name or config; the file is corrupt");
        const Context ctx{file, layerName(entry), cls->get<std::string>()};
        if (ctx.name.empty()) ctx.fail("the layer has no name; the file is corrupt");
        if (ctx.className == "InputLayer") {
            if (haveInput || !arch.layers.empty())
                ctx.fail("an InputLayer after the first layer is not supported");
            if (!declaredInputShape(ctx, *config, arch.inputShape))
                ctx.fail("the InputLayer declares no shape");
            haveInput = true;
            continue;
        }
        if (!names.insert(ctx.name).second)
            ctx.fail("two layers have this name; the config is corrupt");
        if (!haveInput && arch.layers.empty())
            haveInput = declaredInputShape(ctx, *config, arch.inputShape);
        int axis = 0;
        arch.layers.push_back(parseLayer(ctx, *config, axis));
        arch.normalizationAxes.push_back(axis);
    }
    if (!haveInput && !buildInputShape(top, model, *modelConfig, arch.inputShape))
        top.fail("the model config declares no input shape; re-save the model after building it");
    if (arch.layers.empty()) top.fail("the model has no layers besides its input");
    return arch;
}

}  // namespace cwb
