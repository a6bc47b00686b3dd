// `cwb info MODEL [--json]`: what a model file holds — format, input, layers with output
// shapes, parameters and activations, totals — or, for weights-only files, each tensor with
// its dtype, shape and value range; for a language-model checkpoint, its architecture and
// every tensor with its dtype and size (checkpoint_report.h).
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cwb/checkpoint_report.h"
#include "app/cwb/command.h"
#include "core/error.h"
#include "core/io/llama_checkpoint.h"
#include "core/io/model_loader.h"

namespace cwb::cli {
namespace {

using Json = nlohmann::ordered_json;

struct TensorSummary {
    bool numeric = false;
    double min = 0, max = 0, mean = 0;
    long long nonFinite = 0;
};

// Statistics over the finite values; Bool tensors are flags, not numbers.
TensorSummary summarize(const Tensor& tensor) {
    TensorSummary s;
    if (tensor.dtype() == DType::Bool || tensor.elements() == 0) return s;
    const std::vector<float> values = tensor.toFloatVector();
    double sum = 0;
    long long finite = 0;
    s.min = std::numeric_limits<double>::infinity();
    s.max = -s.min;
    for (const float v : values) {
        if (!std::isfinite(v)) {
            ++s.nonFinite;
            continue;
        }
        s.min = std::min(s.min, double(v));
        s.max = std::max(s.max, double(v));
        sum += v;
        ++finite;
    }
    s.numeric = finite > 0;
    s.mean = finite ? sum / double(finite) : 0;
    return s;
}

bool hasActivation(const Layer& layer) {
    return layer.kind == LayerKind::Dense || layer.kind == LayerKind::Conv2D ||
           layer.kind == LayerKind::Activation;
}

std::string activationText(const Layer& layer) {
    if (!hasActivation(layer)) return "-";
    std::string text = activationName(layer.activation);
    if (layer.activation == ActivationKind::LeakyRelu) {
        char alpha[32];
        std::snprintf(alpha, sizeof alpha, "(%g)", layer.activationAlpha);
        text += alpha;
    }
    return text;
}

Json shapeJson(const Shape& shape) {
    Json out = Json::array();
    for (auto d : shape) out.push_back(d);
    return out;
}

Json toJson(const Model& model) {
    Json out;
    out["file"] = model.sourcePath;
    out["format"] = model.format;
    out["evaluable"] = model.evaluable;
    if (!model.evaluable) out["notEvaluableReason"] = model.notEvaluableReason;
    if (!model.layers.empty()) {
        out["inputShape"] = shapeJson(model.inputShape);
        out["outputShape"] = shapeJson(model.outputShape());
        Json layers = Json::array();
        for (const Layer& layer : model.layers) {
            Json l;
            l["name"] = layer.name;
            l["class"] = layer.className;
            l["outputShape"] = shapeJson(layer.outputShape);
            l["parameters"] = layer.parameterCount();
            l["activation"] =
                hasActivation(layer) ? Json(activationName(layer.activation)) : Json(nullptr);
            l["flopsPerImage"] = layer.flopsPerSample();
            layers.push_back(std::move(l));
        }
        out["layers"] = std::move(layers);
        out["flopsPerImage"] = model.flopsPerSample();
    }
    out["parameters"] = model.parameterCount();
    if (!model.tensors.empty()) {
        Json tensors = Json::array();
        for (const auto& [name, tensor] : model.tensors) {
            Json t;
            t["name"] = name;
            t["dtype"] = dtypeName(tensor.dtype());
            t["shape"] = shapeJson(tensor.shape());
            t["elements"] = tensor.elements();
            const TensorSummary s = summarize(tensor);
            if (s.numeric) {
                t["min"] = s.min;
                t["max"] = s.max;
                t["mean"] = s.mean;
            }
            if (s.nonFinite) t["nonFinite"] = s.nonFinite;
            tensors.push_back(std::move(t));
        }
        out["tensors"] = std::move(tensors);
    }
    return out;
}

void printText(const Model& model) {
    std::printf("file:            %s\n", model.sourcePath.c_str());
    std::printf("format:          %s\n", model.format.c_str());
    if (!model.layers.empty()) {
        std::printf("input shape:     %s\n", shapeToString(model.inputShape).c_str());
        std::printf("layers:          %zu\n", model.layers.size());
        std::printf("  %-3s %-24s %-20s %-16s %12s  %s\n", "#", "name", "class", "output shape",
                    "params", "activation");
        for (std::size_t i = 0; i < model.layers.size(); ++i) {
            const Layer& layer = model.layers[i];
            std::printf("  %-3zu %-24s %-20s %-16s %12lld  %s\n", i + 1, layer.name.c_str(),
                        layer.className.c_str(), shapeToString(layer.outputShape).c_str(),
                        layer.parameterCount(), activationText(layer).c_str());
        }
        std::printf("output shape:    %s\n", shapeToString(model.outputShape()).c_str());
    }
    std::printf("parameters:      %lld\n", model.parameterCount());
    if (!model.layers.empty()) std::printf("FLOPs per image: %.0f\n", model.flopsPerSample());
    if (!model.evaluable) std::printf("not evaluable: %s\n", model.notEvaluableReason.c_str());
    if (!model.tensors.empty()) {
        std::printf("tensors:         %zu\n", model.tensors.size());
        std::printf("  %-36s %-5s %-16s %12s %14s %14s %14s\n", "name", "dtype", "shape",
                    "elements", "min", "max", "mean");
        for (const auto& [name, tensor] : model.tensors) {
            const TensorSummary s = summarize(tensor);
            std::printf("  %-36s %-5s %-16s %12lld", name.c_str(),
                        dtypeName(tensor.dtype()).c_str(), shapeToString(tensor.shape()).c_str(),
                        static_cast<long long>(tensor.elements()));
            if (s.numeric) std::printf(" %14.6g %14.6g %14.6g", s.min, s.max, s.mean);
            if (s.nonFinite) std::printf("  (%lld NaN/Inf)", s.nonFinite);
            std::printf("\n");
        }
    }
}

struct InfoArgs {
    std::string model;
    bool json = false;
};

int runInfo(const InfoArgs& o) {
    if (isLlamaCheckpointPath(o.model)) {
        const CheckpointInfo info = describeCheckpoint(openLlamaCheckpoint(o.model));
        if (o.json)
            std::cout << checkpointJson(info).dump(2) << "\n";
        else
            printCheckpoint(info);
        return 0;
    }
    const Model model = loadModel(o.model);
    if (o.json)
        std::cout << toJson(model).dump(2) << "\n";
    else
        printText(model);
    return 0;
}

void declareInfo(CLI::App& app, InfoArgs& o) {
    app.add_option("MODEL", o.model, "a Keras .h5/.keras or safetensors file")->required();
    app.add_flag("--json", o.json, "print JSON instead of a table");
}

const CommandRegistration registration = command<InfoArgs>(
    "info", "show a model file's format, layers, parameter and FLOP counts (or its tensors)",
    declareInfo, runInfo);

}  // namespace
}  // namespace cwb::cli
