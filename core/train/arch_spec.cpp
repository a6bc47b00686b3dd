// Parsing architecture specs and building the models (see arch_spec.h).
#include "core/train/arch_spec.h"

#include <cmath>
#include <map>
#include <vector>

#include "core/error.h"
#include "core/util/rng.h"

namespace cwb::train {
namespace {

const char* kSpecHelp = "expected e.g. 'mlp:256,128', 'cnn:32,64/128' or 'cnn-bn:32,64/128'";

[[noreturn]] void bad(const std::string& spec, const std::string& what) {
    throw Error("invalid architecture '" + spec + "': " + what + "; " + kSpecHelp);
}

std::vector<int> parseList(const std::string& spec, const std::string& list, const char* role) {
    std::vector<int> values;
    if (list.empty()) return values;
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = list.find(',', start);
        const std::string item =
            list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (item.empty() || item.size() > 6 ||
            item.find_first_not_of("0123456789") != std::string::npos)
            bad(spec, std::string(role) + " entry '" + item + "' is not a positive whole number");
        const int v = std::stoi(item);
        if (v < 1 || v > 65536)
            bad(spec, std::string(role) + " size " + item + " is outside 1..65536");
        values.push_back(v);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return values;
}

// Keras's automatic names: the first layer of a kind is "dense", then "dense_1", ...
class Namer {
public:
    std::string operator()(const std::string& base) {
        const int n = m_counts[base]++;
        return n == 0 ? base : base + "_" + std::to_string(n);
    }

private:
    std::map<std::string, int> m_counts;
};

Layer makeLayer(LayerKind kind, const std::string& name) {
    Layer layer;
    layer.kind = kind;
    layer.className = layerKindName(kind);
    layer.name = name;
    return layer;
}

Layer dense(Namer& names, int in, int units, ActivationKind activation) {
    Layer layer = makeLayer(LayerKind::Dense, names("dense"));
    layer.units = units;
    layer.activation = activation;
    layer.kernel = Tensor::zeros({in, units});
    layer.bias = Tensor::zeros({units});
    return layer;
}

}  // namespace

Model buildModel(const std::string& spec, const ArchOptions& options) {
    const std::size_t colon = spec.find(':');
    if (colon == std::string::npos) bad(spec, "missing ':' after the kind");
    const std::string kind = spec.substr(0, colon);
    const std::string rest = spec.substr(colon + 1);
    if (kind != "mlp" && kind != "cnn" && kind != "cnn-bn")
        bad(spec, "unknown kind '" + kind + "'");
    if (options.classes < 2)
        throw Error("a classifier needs at least 2 classes, got " +
                    std::to_string(options.classes));
    if (!(options.dropout >= 0.f && options.dropout < 1.f))
        throw Error("dropout rate " + std::to_string(options.dropout) + " is outside [0, 1)");

    std::vector<int> convs, denses;
    if (kind == "mlp") {
        if (rest.find('/') != std::string::npos) bad(spec, "an mlp has no '/' part");
        denses = parseList(spec, rest, "layer");
        if (denses.empty()) bad(spec, "no hidden layer sizes");
    } else {
        const std::size_t slash = rest.find('/');
        convs = parseList(spec, rest.substr(0, slash), "filter");
        if (convs.empty()) bad(spec, "no convolution filter counts before '/'");
        if (slash != std::string::npos) {
            denses = parseList(spec, rest.substr(slash + 1), "dense");
            if (denses.empty()) bad(spec, "nothing after '/'");
        }
    }

    Model model;
    model.sourcePath = "arch " + spec;
    model.format = "cwb architecture " + spec;
    model.evaluable = true;
    model.inputShape = !options.inputShape.empty() ? options.inputShape
                       : kind == "mlp"             ? Shape{28, 28}
                                                   : Shape{28, 28, 1};
    Namer names;
    const bool batchNorm = kind == "cnn-bn";
    Shape shape = model.inputShape;
    if (!convs.empty() && shape.size() == 2) shape.push_back(1);
    if (!convs.empty() && shape.size() != 3)
        bad(spec, "a cnn needs an image input (H, W, C), got " + shapeToString(shape));
    for (int filters : convs) {
        if (shape[0] < 2 || shape[1] < 2)
            bad(spec,
                "too many pooling stages for a " + shapeToString(model.inputShape) + " input");
        Layer conv = makeLayer(LayerKind::Conv2D, names("conv2d"));
        conv.conv = {filters, 3, 3, 1, 1, Padding::Same};
        conv.activation = batchNorm ? ActivationKind::Linear : ActivationKind::Relu;
        conv.useBias = !batchNorm;  // BatchNormalization's beta makes a bias redundant
        conv.kernel = Tensor::zeros({3, 3, shape[2], filters});
        if (conv.useBias) conv.bias = Tensor::zeros({filters});
        model.layers.push_back(std::move(conv));
        if (batchNorm) {
            Layer bn = makeLayer(LayerKind::BatchNormalization, names("batch_normalization"));
            for (Tensor* t : {&bn.gamma, &bn.beta, &bn.movingMean, &bn.movingVariance})
                *t = Tensor::zeros({filters});
            model.layers.push_back(std::move(bn));
            Layer relu = makeLayer(LayerKind::Activation, names("activation"));
            relu.activation = ActivationKind::Relu;
            model.layers.push_back(std::move(relu));
        }
        Layer pool = makeLayer(LayerKind::MaxPooling2D, names("max_pooling2d"));
        model.layers.push_back(std::move(pool));
        shape = {shape[0] / 2, shape[1] / 2, filters};
    }
    model.layers.push_back(makeLayer(LayerKind::Flatten, names("flatten")));
    int features = static_cast<int>(shapeElements(shape));
    for (int units : denses) {
        model.layers.push_back(dense(names, features, units, ActivationKind::Relu));
        if (options.dropout > 0.f) {
            Layer drop = makeLayer(LayerKind::Dropout, names("dropout"));
            drop.dropoutRate = options.dropout;
            model.layers.push_back(std::move(drop));
        }
        features = units;
    }
    model.layers.push_back(dense(names, features, options.classes, ActivationKind::Softmax));
    model.inferShapes();
    initializeWeights(model, options.seed);
    return model;
}

void initializeWeights(Model& model, std::uint64_t seed) {
    for (std::size_t i = 0; i < model.layers.size(); ++i) {
        Layer& layer = model.layers[i];
        Rng rng(deriveSeed(seed, i));
        if (layer.hasKernel() && !layer.kernel.empty()) {
            // Glorot uniform: fan_in = receptive field * inputs, fan_out = receptive field *
            // outputs.
            const Shape& k = layer.kernel.shape();
            double receptive = 1.0;
            for (std::size_t d = 0; d + 2 < k.size(); ++d) receptive *= double(k[d]);
            const double fanIn = receptive * double(k[k.size() - 2]);
            const double fanOut = receptive * double(k.back());
            const float limit = static_cast<float>(std::sqrt(6.0 / (fanIn + fanOut)));
            for (float& w : layer.kernel.mutableFloats()) w = (2.f * rng.uniform() - 1.f) * limit;
        }
        if (!layer.bias.empty())
            for (float& b : layer.bias.mutableFloats()) b = 0.f;
        if (layer.kind == LayerKind::BatchNormalization) {
            for (Tensor* t : {&layer.gamma, &layer.movingVariance})
                if (!t->empty())
                    for (float& v : t->mutableFloats()) v = 1.f;
            for (Tensor* t : {&layer.beta, &layer.movingMean})
                if (!t->empty())
                    for (float& v : t->mutableFloats()) v = 0.f;
        }
    }
}

}  // namespace cwb::train
