// Keras config parsing on hand-written configs in every style Keras has saved: list-style
// and dict-style Sequential, Keras 3 activation objects, plain-chain Functional models, and
// the configurations that must be refused with a clear message.
#include <QtTest>

#include "core/error.h"
#include "core/io/keras_config.h"
#include "core/io/keras_weights.h"

using namespace cwb;
using nlohmann::json;

namespace {

// Raw strings stay outside the test class: moc mis-reads some of them inside one.
const char* const kListStyle = R"({"class_name": "Sequential", "config": [
  {"class_name": "Conv2D", "config": {"name": "c", "batch_input_shape": [null, 28, 28, 1], "filters": 8,
   "kernel_size": [5, 3], "strides": [2, 1], "padding": "same", "data_format": "channels_last",
   "dilation_rate": [1, 1], "activation": "relu", "use_bias": false}},
  {"class_name": "MaxPooling2D", "config": {"name": "p", "pool_size": [3, 3], "strides": null, "padding": "valid"}},
  {"class_name": "AveragePooling2D", "config": {"name": "a", "pool_size": 2, "strides": 1, "padding": "same"}},
  {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": [3], "epsilon": 0.01, "center": false, "scale": true}},
  {"class_name": "Flatten", "config": {"name": "f"}},
  {"class_name": "Dense", "config": {"name": "d", "units": 10, "activation": "softmax"}}]})";

const char* const kTfKeras2 = R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
  {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 784], "dtype": "float32", "name": "in"}},
  {"class_name": "Reshape", "config": {"name": "r", "target_shape": [28, -1, 1]}},
  {"class_name": "ReLU", "config": {"name": "relu6", "max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0}},
  {"class_name": "LeakyReLU", "config": {"name": "leaky", "alpha": 0.1}},
  {"class_name": "Softmax", "config": {"name": "sm", "axis": -1}},
  {"class_name": "Dropout", "config": {"name": "drop", "rate": 0.25}},
  {"class_name": "Activation", "config": {"name": "act", "activation": "silu"}}]}})";

const char* const kKeras3 =
    R"({"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [
  {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 4], "name": "input_layer"}},
  {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "units": 3,
   "activation": {"module": "keras.activations", "class_name": "function", "config": "gelu", "registered_name": "gelu"}}},
  {"module": "keras.layers", "class_name": "LeakyReLU", "config": {"name": "lr", "negative_slope": 0.2}},
  {"module": "keras.layers", "class_name": "Activation", "config": {"name": "a", "activation": "leaky_relu"}}]}})";

const char* const kKeras3BuiltWithoutInput = R"({"class_name": "Sequential", "config": {"name": "s",
  "layers": [{"class_name": "Dense", "config": {"name": "dense", "units": 2}}], "build_input_shape": [null, 5]}})";

const char* const kFunctionalChain =
    R"({"class_name": "Functional", "config": {"name": "f", "layers": [
  {"class_name": "InputLayer", "name": "inp", "config": {"batch_shape": [null, 6], "name": "inp"}, "inbound_nodes": []},
  {"class_name": "Dense", "name": "d1", "config": {"name": "d1", "units": 4, "activation": "tanh"},
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 6], "keras_history": ["inp", 0, 0]}}], "kwargs": {}}]},
  {"class_name": "Dense", "name": "d2", "config": {"name": "d2", "units": 2},
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "keras_history": ["d1", 0, 0]}}], "kwargs": {}}]}],
  "input_layers": [["inp", 0, 0]], "output_layers": [["d2", 0, 0]]}})";

const char* const kKeras2ModelChain = R"({"class_name": "Model", "config": {"name": "m", "layers": [
  {"class_name": "InputLayer", "name": "input_1", "config": {"batch_input_shape": [null, 3], "name": "input_1"}, "inbound_nodes": []},
  {"class_name": "Dense", "name": "dense_1", "config": {"name": "dense_1", "units": 2}, "inbound_nodes": [[["input_1", 0, 0, {}]]]}],
  "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_1", 0, 0]]}})";

const char* const kFunctionalMerge =
    R"({"class_name": "Functional", "config": {"name": "f", "layers": [
  {"class_name": "InputLayer", "name": "inp", "config": {"batch_shape": [null, 6], "name": "inp"}, "inbound_nodes": []},
  {"class_name": "Dense", "name": "a", "config": {"name": "a", "units": 6},
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["inp", 0, 0]}}], "kwargs": {}}]},
  {"class_name": "Add", "name": "add", "config": {"name": "add"},
   "inbound_nodes": [{"args": [[{"class_name": "__keras_tensor__", "config": {"keras_history": ["a", 0, 0]}},
                                {"class_name": "__keras_tensor__", "config": {"keras_history": ["inp", 0, 0]}}]], "kwargs": {}}]}],
  "input_layers": [["inp", 0, 0]], "output_layers": [["add", 0, 0]]}})";

const char* const kFunctionalSkip = R"({"class_name": "Model", "config": {"name": "m", "layers": [
  {"class_name": "InputLayer", "name": "i", "config": {"batch_input_shape": [null, 3], "name": "i"}, "inbound_nodes": []},
  {"class_name": "Dense", "name": "a", "config": {"name": "a", "units": 3}, "inbound_nodes": [[["i", 0, 0, {}]]]},
  {"class_name": "Dense", "name": "b", "config": {"name": "b", "units": 3}, "inbound_nodes": [[["i", 0, 0, {}]]]}],
  "input_layers": [["i", 0, 0]], "output_layers": [["b", 0, 0]]}})";

const char* const kFunctionalShared = R"({"class_name": "Model", "config": {"name": "m", "layers": [
  {"class_name": "InputLayer", "name": "i", "config": {"batch_input_shape": [null, 3], "name": "i"}, "inbound_nodes": []},
  {"class_name": "Dense", "name": "a", "config": {"name": "a", "units": 3}, "inbound_nodes": [[["i", 0, 0, {}]], [["i", 0, 0, {}]]]}],
  "input_layers": [["i", 0, 0]], "output_layers": [["a", 0, 0]]}})";

// One Sequential with a single layer of the given class and config after an input of `shape`.
json oneLayer(const std::string& cls, const json& config,
              const json& batchShape = json::array({nullptr, 8, 8, 3})) {
    json layerConfig = config;
    layerConfig["name"] = "x";
    return {
        {"class_name", "Sequential"},
        {"config",
         {{"name", "s"},
          {"layers", json::array({{{"class_name", "InputLayer"},
                                   {"config", {{"batch_input_shape", batchShape}, {"name", "in"}}}},
                                  {{"class_name", cls}, {"config", layerConfig}}})}}}};
}

std::string errorOf(const json& config) {
    try {
        parseKerasModelConfig(config, "m.h5");
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

class KerasConfigLoaderTest : public QObject {
    Q_OBJECT
private slots:
    void listStyleSequential() {
        const auto arch = parseKerasModelConfig(json::parse(kListStyle), "m.h5");
        QCOMPARE(arch.inputShape, (Shape{28, 28, 1}));
        QCOMPARE(arch.layers.size(), std::size_t(6));
        const Layer& conv = arch.layers[0];
        QCOMPARE(conv.kind, LayerKind::Conv2D);
        QCOMPARE(conv.conv.filters, 8);
        QCOMPARE(conv.conv.kernelH, 5);
        QCOMPARE(conv.conv.kernelW, 3);
        QCOMPARE(conv.conv.strideH, 2);
        QCOMPARE(conv.conv.strideW, 1);
        QCOMPARE(conv.conv.padding, Padding::Same);
        QCOMPARE(conv.activation, ActivationKind::Relu);
        QVERIFY(!conv.useBias);
        const Layer& pool = arch.layers[1];
        QCOMPARE(pool.kind, LayerKind::MaxPooling2D);
        QCOMPARE(pool.pool.strideH, 3);  // strides null: the pool size
        QCOMPARE(pool.pool.strideW, 3);
        QCOMPARE(arch.layers[2].kind, LayerKind::AveragePooling2D);
        QCOMPARE(arch.layers[2].pool.poolH, 2);
        QCOMPARE(arch.layers[2].pool.strideW, 1);
        QCOMPARE(arch.layers[2].pool.padding, Padding::Same);
        const Layer& bn = arch.layers[3];
        QCOMPARE(bn.batchNorm.epsilon, 0.01f);
        QVERIFY(!bn.batchNorm.center);
        QCOMPARE(arch.normalizationAxes[3], 3);
        QCOMPARE(kerasWeightRoles(bn),
                 (std::vector<std::string>{"gamma", "moving_mean", "moving_variance"}));
        QCOMPARE(kerasWeightRoles(conv), (std::vector<std::string>{"kernel"}));
        QCOMPARE(arch.layers[5].activation, ActivationKind::Softmax);
        QCOMPARE(arch.layers[5].units, 10);
    }

    void dictStyleActivationLayers() {
        const auto arch = parseKerasModelConfig(json::parse(kTfKeras2), "m.h5");
        QCOMPARE(arch.inputShape, Shape{784});
        QCOMPARE(arch.layers[0].kind, LayerKind::Reshape);
        QCOMPARE(arch.layers[0].targetShape, (Shape{28, -1, 1}));
        QCOMPARE(arch.layers[1].kind, LayerKind::Activation);
        QCOMPARE(arch.layers[1].activation, ActivationKind::Relu6);
        QCOMPARE(arch.layers[2].activation, ActivationKind::LeakyRelu);
        QCOMPARE(arch.layers[2].activationAlpha, 0.1f);
        QCOMPARE(arch.layers[3].activation, ActivationKind::Softmax);
        QCOMPARE(arch.layers[4].dropoutRate, 0.25f);
        QCOMPARE(arch.layers[5].activation, ActivationKind::Swish);  // silu is swish
    }

    void kerasThreeActivationObjects() {
        const auto arch = parseKerasModelConfig(json::parse(kKeras3), "m.keras");
        QCOMPARE(arch.inputShape, Shape{4});
        QCOMPARE(arch.layers[0].activation, ActivationKind::Gelu);
        QCOMPARE(arch.layers[1].activationAlpha, 0.2f);
        QCOMPARE(arch.layers[2].activation, ActivationKind::LeakyRelu);
        QCOMPARE(arch.layers[2].activationAlpha, 0.2f);  // keras.activations.leaky_relu default
        const auto built = parseKerasModelConfig(json::parse(kKeras3BuiltWithoutInput), "m.keras");
        QCOMPARE(built.inputShape, Shape{5});
    }

    void plainChainFunctionalModelsAreAccepted() {
        const auto keras3 = parseKerasModelConfig(json::parse(kFunctionalChain), "m.keras");
        QCOMPARE(keras3.inputShape, Shape{6});
        QCOMPARE(keras3.layers.size(), std::size_t(2));
        QCOMPARE(keras3.layers[0].activation, ActivationKind::Tanh);
        const auto keras2 = parseKerasModelConfig(json::parse(kKeras2ModelChain), "m.h5");
        QCOMPARE(keras2.layers.size(), std::size_t(1));
        QCOMPARE(keras2.inputShape, Shape{3});
    }

    void refusedConfigs_data() {
        QTest::addColumn<QByteArray>("config");
        QTest::addColumn<QString>("expected");
        const auto row = [](const char* name, const json& config, const char* expected) {
            QTest::newRow(name) << QByteArray::fromStdString(config.dump()) << expected;
        };
        row("merge layer", json::parse(kFunctionalMerge),
            "m.h5: layer 'add' (Add): takes 2 inputs; models with branches or merge layers are not "
            "supported");
        row("skip connection", json::parse(kFunctionalSkip),
            "layer 'b' (Dense): takes its input from 'i' rather than from the layer before it "
            "('a')");
        row("shared layer", json::parse(kFunctionalShared),
            "layer 'a' (Dense): is called 2 times (a shared layer)");
        row("lstm", oneLayer("LSTM", {{"units", 4}}),
            "m.h5: layer 'x' (LSTM) is not supported; supported layers: InputLayer, Dense, Conv2D");
        row("custom layer", oneLayer("MyAttention", json::object()),
            "layer 'x' (MyAttention) is not supported");
        row("unknown activation", oneLayer("Dense", {{"units", 4}, {"activation", "mish"}}),
            "m.h5: layer 'x' (Dense): activation 'mish' is not supported; supported activations: "
            "linear, relu");
        row("dilated conv",
            oneLayer("Conv2D", {{"filters", 2}, {"kernel_size", 3}, {"dilation_rate", {2, 2}}}),
            "layer 'x' (Conv2D): dilation_rate [2,2] is not supported; only 1 is");
        row("grouped conv", oneLayer("Conv2D", {{"filters", 2}, {"kernel_size", 3}, {"groups", 2}}),
            "layer 'x' (Conv2D): groups = 2 is not supported; only 1 is");
        row("channels first",
            oneLayer("Conv2D",
                     {{"filters", 2}, {"kernel_size", 3}, {"data_format", "channels_first"}}),
            "layer 'x' (Conv2D): data_format 'channels_first' is not supported; only channels_last "
            "is");
        row("causal padding",
            oneLayer("Conv2D", {{"filters", 2}, {"kernel_size", 3}, {"padding", "causal"}}),
            "padding 'causal' is not supported");
        row("pool channels first", oneLayer("MaxPooling2D", {{"data_format", "channels_first"}}),
            "data_format 'channels_first'");
        row("bn over two axes", oneLayer("BatchNormalization", {{"axis", {1, 2}}}),
            "normalizes over axes [1,2]; only the last axis");
        row("units missing", oneLayer("Dense", json::object()),
            "layer 'x' (Dense): config field 'units' is missing");
        row("units not a number", oneLayer("Dense", {{"units", "ten"}}),
            "config field 'units' must be an integer, got \"ten\"");
        row("zero filters", oneLayer("Conv2D", {{"filters", 0}, {"kernel_size", 3}}),
            "config field 'filters' is 0, outside 1..");
        row("relu threshold", oneLayer("ReLU", {{"threshold", 0.5}}),
            "a non-zero threshold is not supported");
        row("softmax axis", oneLayer("Softmax", {{"axis", 1}}),
            "softmax over axis 1 is not supported");
        row("dropout rate", oneLayer("Dropout", {{"rate", 1.5}}),
            "dropout rate 1.500000 is outside [0, 1)");
        row("two unknown reshape sizes", oneLayer("Reshape", {{"target_shape", {-1, -1}}}),
            "has more than one -1");
        row("unknown input size",
            oneLayer("Dense", {{"units", 2}}, json::array({nullptr, nullptr, 28})),
            "has an unknown dimension; only fixed input sizes are supported");
        row("no input shape",
            json::parse(
                R"({"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "Dense", "config": {"name": "d", "units": 2}}]}})"),
            "m.h5: the model config declares no input shape");
        row("model class", json::parse(R"({"class_name": "MyModel", "config": {}})"),
            "m.h5: model class 'MyModel' is not supported");
        row("model class not text", json::parse(R"({"class_name": 7777.77, "config": {}})"),
            "m.h5: config field 'class_name' must be text, got 7777.77");
        row("functional layer class not text",
            json::parse(
                R"({"class_name": "Functional", "config": {"layers": [{"class_name": 3, "config": {"name": "i"}}]}})"),
            "layer 'i' (?)");
        row("no layers",
            json::parse(R"({"class_name": "Sequential", "config": {"name": "s", "layers": []}})"),
            "lists no layers");
        row("not an object", json::array({1, 2}), "the model config is not a JSON object");
    }
    void refusedConfigs() {
        QFETCH(QByteArray, config);
        QFETCH(QString, expected);
        const std::string message = errorOf(json::parse(config.toStdString()));
        QVERIFY2(message.find(expected.toStdString()) != std::string::npos, message.c_str());
    }

    void snakeCaseMatchesKeras_data() {
        QTest::addColumn<QString>("className");
        QTest::addColumn<QString>("key");
        // Layer names Keras itself gives these classes by default.
        QTest::newRow("Conv2D") << "Conv2D"
                                << "conv2d";
        QTest::newRow("MaxPooling2D") << "MaxPooling2D"
                                      << "max_pooling2d";
        QTest::newRow("AveragePooling2D") << "AveragePooling2D"
                                          << "average_pooling2d";
        QTest::newRow("BatchNormalization") << "BatchNormalization"
                                            << "batch_normalization";
        QTest::newRow("Dense") << "Dense"
                               << "dense";
        QTest::newRow("InputLayer") << "InputLayer"
                                    << "input_layer";
        QTest::newRow("TFSMLayer") << "TFSMLayer"
                                   << "tfsm_layer";
        QTest::newRow("ReLU") << "ReLU"
                              << "re_lu";
        QTest::newRow("LeakyReLU") << "LeakyReLU"
                                   << "leaky_re_lu";
        QTest::newRow("Conv2DTranspose") << "Conv2DTranspose"
                                         << "conv2d_transpose";
        // Python's re.sub on to_snake_case's three patterns, worked by hand.
        QTest::newRow("non-word characters") << "My-Layer!"
                                             << "my_layer";
        QTest::newRow("acronym then word") << "HTTPServer"
                                           << "http_server";
        QTest::newRow("camel case") << "getHTTPResponse"
                                    << "get_http_response";
    }
    void snakeCaseMatchesKeras() {
        QFETCH(QString, className);
        QFETCH(QString, key);
        QCOMPARE(QString::fromStdString(kerasSnakeCase(className.toStdString())), key);
    }

    void weightsAreCheckedAndShapesInferred() {
        auto arch = parseKerasModelConfig(oneLayer("BatchNormalization", {{"axis", 3}}), "m.h5");
        Layer& bn = arch.layers[0];
        for (const char* role : {"gamma", "beta", "moving_mean", "moving_variance"})
            assignKerasWeight(bn, role, Tensor::fromFloats({3}, {1, 2, 3}), "m.h5");
        QVERIFY_THROWS_EXCEPTION(
            Error, assignKerasWeight(bn, "gamma", Tensor::fromFloats({3}, {1, 2, 3}), "m.h5"));
        QVERIFY_THROWS_EXCEPTION(
            Error, assignKerasWeight(bn, "kernel", Tensor::fromFloats({3}, {1, 2, 3}), "m.h5"));
        const Model model = finishKerasModel(arch, "m.h5", "test");
        QCOMPARE(model.layers[0].outputShape, (Shape{8, 8, 3}));
        QVERIFY(model.evaluable);

        // Axis 1 of a (batch, 8, 8, 3) input is not the channels axis.
        auto wrongAxis =
            parseKerasModelConfig(oneLayer("BatchNormalization", {{"axis", 1}}), "m.h5");
        for (const char* role : {"gamma", "beta", "moving_mean", "moving_variance"})
            assignKerasWeight(wrongAxis.layers[0], role, Tensor::fromFloats({3}, {1, 2, 3}),
                              "m.h5");
        try {
            finishKerasModel(wrongAxis, "m.h5", "test");
            QFAIL("accepted axis 1");
        } catch (const Error& e) {
            QVERIFY2(
                std::string(e.what()).find("normalizes axis 1 of input (8, 8, 3); only the last") !=
                    std::string::npos,
                e.what());
        }

        auto missing = parseKerasModelConfig(oneLayer("Dense", {{"units", 2}}), "m.h5");
        assignKerasWeight(missing.layers[0], "kernel", Tensor::zeros({3, 2}), "m.h5");
        try {
            finishKerasModel(missing, "m.h5", "test");
            QFAIL("accepted a Dense without bias");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find(
                         "m.h5: layer 'x' (Dense): weight 'bias' is missing") != std::string::npos,
                     e.what());
        }
    }
};

QTEST_GUILESS_MAIN(KerasConfigLoaderTest)
#include "keras_config_loader_test.moc"
