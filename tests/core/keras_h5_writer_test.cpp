// saveKerasH5 and atomic writes: load(save(load(fixture))) keeps every weight bit for bit
// and every layer setting; the file has tf.keras's layout (checked with the HDF5 C API, not
// with our reader); the source file is never overwritten; a destination changes only when a
// write succeeds.
#include <QtTest>

// No HDF5 include path for tests (see tests/CMakeLists.txt); Debian's header finds its
// siblings relative to itself. The library comes in through cwb_core.
#include <hdf5/serial/hdf5.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/io/keras_config.h"
#include "core/io/keras_h5_writer.h"
#include "core/io/model_loader.h"
#include "core/util/atomic_file.h"
#include "tests/support/h5_text.h"
#include "tests/support/test_paths.h"

using namespace cwb;
using cwb::test::readBytes;
using cwb::test::writeBytes;
namespace fs = std::filesystem;

namespace {

std::string freshDir(const std::string& name) {
    const std::string dir = test::tempDir() + "/" + name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::vector<std::string> filesIn(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir))
        names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

bool sameBits(const Tensor& a, const Tensor& b) {
    if (a.empty() || b.empty()) return a.empty() == b.empty();
    return a.shape() == b.shape() && a.dtype() == b.dtype() &&
           std::memcmp(a.bytes(), b.bytes(), a.byteSize()) == 0;
}

// Every setting and weight of two layers, as text naming the first difference ("" if none).
std::string layerDifference(const Layer& a, const Layer& b) {
    const auto differs = [&](bool equal, const char* what) {
        return equal ? std::string() : a.name + ": " + what;
    };
    for (const std::string& d :
         {differs(a.name == b.name, "name"),
          differs(a.className == b.className, "class"),
          differs(a.kind == b.kind, "kind"),
          differs(a.activation == b.activation, "activation"),
          differs(a.activationAlpha == b.activationAlpha, "alpha"),
          differs(a.units == b.units, "units"),
          differs(a.useBias == b.useBias, "use_bias"),
          differs(a.conv.filters == b.conv.filters, "filters"),
          differs(a.conv.kernelH == b.conv.kernelH && a.conv.kernelW == b.conv.kernelW,
                  "kernel size"),
          differs(a.conv.strideH == b.conv.strideH && a.conv.strideW == b.conv.strideW,
                  "conv strides"),
          differs(a.conv.padding == b.conv.padding, "conv padding"),
          differs(a.pool.poolH == b.pool.poolH && a.pool.poolW == b.pool.poolW, "pool size"),
          differs(a.pool.strideH == b.pool.strideH && a.pool.strideW == b.pool.strideW,
                  "pool strides"),
          differs(a.pool.padding == b.pool.padding, "pool padding"),
          differs(a.batchNorm.epsilon == b.batchNorm.epsilon, "epsilon"),
          differs(
              a.batchNorm.center == b.batchNorm.center && a.batchNorm.scale == b.batchNorm.scale,
              "center/scale"),
          differs(a.targetShape == b.targetShape, "target shape"),
          differs(a.dropoutRate == b.dropoutRate, "rate"),
          differs(a.inputShape == b.inputShape && a.outputShape == b.outputShape, "shapes"),
          differs(sameBits(a.kernel, b.kernel) && sameBits(a.bias, b.bias), "kernel/bias bits"),
          differs(sameBits(a.gamma, b.gamma) && sameBits(a.beta, b.beta), "gamma/beta bits"),
          differs(
              sameBits(a.movingMean, b.movingMean) && sameBits(a.movingVariance, b.movingVariance),
              "moving stats bits")})
        if (!d.empty()) return d;
    return {};
}

void compareModels(const Model& a, const Model& b) {
    QCOMPARE(b.inputShape, a.inputShape);
    QCOMPARE(b.layers.size(), a.layers.size());
    QCOMPARE(b.parameterCount(), a.parameterCount());
    for (std::size_t i = 0; i < a.layers.size(); ++i) {
        const std::string difference = layerDifference(a.layers[i], b.layers[i]);
        QVERIFY2(difference.empty(), difference.c_str());
    }
}

// Deterministic filler for synthetic weights.
Tensor ramp(const Shape& shape, float scale) {
    std::vector<float> values(static_cast<std::size_t>(shapeElements(shape)));
    for (std::size_t i = 0; i < values.size(); ++i)
        values[i] = scale * (static_cast<float>((i * 37) % 101) - 50.f) / 7.f;
    return Tensor::fromFloats(shape, values);
}

Layer makeLayer(const std::string& name, const std::string& cls, LayerKind kind) {
    Layer layer;
    layer.name = name;
    layer.className = cls;
    layer.kind = kind;
    return layer;
}

// Every layer kind and option the writer must express, built in code.
Model syntheticModel() {
    Model model;
    model.sourcePath = "synthetic";
    model.evaluable = true;
    model.inputShape = {6, 6, 2};
    Layer conv = makeLayer("conv", "Conv2D", LayerKind::Conv2D);
    conv.conv = {4, 3, 2, 2, 1, Padding::Same};
    conv.useBias = false;
    conv.activation = ActivationKind::Elu;
    conv.kernel = ramp({3, 2, 2, 4}, 0.1f);
    Layer pool = makeLayer("avg", "AveragePooling2D", LayerKind::AveragePooling2D);
    pool.pool = {2, 1, 1, 1, Padding::Valid};
    Layer bn = makeLayer("bn", "BatchNormalization", LayerKind::BatchNormalization);
    bn.batchNorm = {0.0123f, false, true};
    bn.gamma = ramp({4}, 0.3f);
    bn.movingMean = ramp({4}, 0.2f);
    bn.movingVariance = Tensor::fromFloats({4}, {0.5f, 1.f, 1.5f, 2.f});
    Layer relu6 = makeLayer("relu6", "ReLU", LayerKind::Activation);
    relu6.activation = ActivationKind::Relu6;
    Layer leaky = makeLayer("leaky", "LeakyReLU", LayerKind::Activation);
    leaky.activation = ActivationKind::LeakyRelu;
    leaky.activationAlpha = 0.05f;
    Layer reshape = makeLayer("reshape", "Reshape", LayerKind::Reshape);
    reshape.targetShape = {-1, 4};
    Layer flatten = makeLayer("flatten", "Flatten", LayerKind::Flatten);
    Layer drop = makeLayer("drop", "Dropout", LayerKind::Dropout);
    drop.dropoutRate = 0.35f;
    Layer dense = makeLayer("dense", "Dense", LayerKind::Dense);
    dense.units = 3;
    dense.activation = ActivationKind::Sigmoid;
    dense.kernel = ramp({48, 3}, 0.01f);
    dense.bias = ramp({3}, 1.f);
    Layer softmax = makeLayer("softmax", "Softmax", LayerKind::Activation);
    softmax.activation = ActivationKind::Softmax;
    model.layers = {conv, pool, bn, relu6, leaky, reshape, flatten, drop, dense, softmax};
    model.inferShapes();
    return model;
}

std::vector<std::string> fixedStringsAttribute(hid_t object, const char* name,
                                               bool* nullPadded = nullptr) {
    const hid_t attribute = H5Aopen(object, name, H5P_DEFAULT);
    const hid_t fileType = H5Aget_type(attribute);
    const hid_t space = H5Aget_space(attribute);
    const std::size_t width = H5Tget_size(fileType),
                      count = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space));
    std::vector<std::string> out;
    if (H5Tget_class(fileType) == H5T_STRING && !H5Tis_variable_str(fileType)) {
        if (nullPadded) *nullPadded = H5Tget_strpad(fileType) == H5T_STR_NULLPAD;
        std::vector<char> buffer(width * count);
        H5Aread(attribute, fileType, buffer.data());
        for (std::size_t i = 0; i < count; ++i)
            out.emplace_back(buffer.data() + i * width, strnlen(buffer.data() + i * width, width));
    } else {
        out.push_back(H5Tget_class(fileType) == H5T_FLOAT && count == 0 ? "<empty float array>"
                                                                        : "<other>");
    }
    H5Sclose(space);
    H5Tclose(fileType);
    H5Aclose(attribute);
    return out;
}

}  // namespace

class KerasH5WriterTest : public QObject {
    Q_OBJECT
private slots:
    void cleanupTestCase() { fs::remove_all(test::tempDir()); }

    void roundTripKeepsEveryBit_data() {
        QTest::addColumn<QString>("file");
        for (const char* file : {"k2_cnn_bn_evanchien.h5", "k2_mlp_dropout_percy.h5",
                                 "k3legacy_mlp_ntu113.h5", "k3_cnn_umer.keras"})
            QTest::newRow(file) << file;
    }
    void roundTripKeepsEveryBit() {
        QFETCH(QString, file);
        const Model original = loadModel(test::fixture(file.toStdString()));
        const std::string dir = freshDir("roundtrip");
        const std::string path = dir + "/saved.h5";
        saveKerasH5(original, path);
        const Model reloaded = loadModel(path);
        QCOMPARE(reloaded.format, std::string("Keras 2.13.1 full model (.h5)"));
        QVERIFY(reloaded.evaluable);
        QCOMPARE(reloaded.sourcePath, path);
        compareModels(original, reloaded);
        QCOMPARE(filesIn(dir), std::vector<std::string>{"saved.h5"});
    }

    void roundTripCoversEveryLayerKind() {
        const Model original = syntheticModel();
        const std::string path = freshDir("synthetic") + "/synthetic.h5";
        saveKerasH5(original, path);
        const Model reloaded = loadModel(path);
        compareModels(original, reloaded);
        QCOMPARE(reloaded.layers[0].conv.strideH, 2);
        QCOMPARE(reloaded.layers[4].activationAlpha, 0.05f);
        QCOMPARE(reloaded.outputShape(), Shape{3});
    }

    void savesTheGivenWeights() {
        Model model = loadModel(test::fixture("k3legacy_mlp_ntu113.h5"));
        Layer& dense = model.layers[static_cast<std::size_t>(model.findLayer("dense_4"))];
        dense.kernel = dense.kernel.clone();
        dense.kernel.mutableFloats()[5] = 0.125f;
        const std::string path = freshDir("edited") + "/edited.h5";
        saveKerasH5(model, path);
        const Model reloaded = loadModel(path);
        QCOMPARE(reloaded.layers[static_cast<std::size_t>(reloaded.findLayer("dense_4"))]
                     .kernel.floats()[5],
                 0.125f);
    }

    // The layout tf.keras's load_model reads, checked with the HDF5 C API.
    void fileHasKerasTwoLayout() {
        const std::string path = freshDir("layout") + "/cnn.h5";
        saveKerasH5(loadModel(test::fixture("k2_cnn_bn_evanchien.h5")), path);
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
        const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        QVERIFY(file >= 0);
        QCOMPARE(test::readTextAttribute(file, "keras_version"), std::string("2.13.1"));
        QCOMPARE(test::readTextAttribute(file, "backend"), std::string("tensorflow"));
        const auto config = nlohmann::json::parse(test::readTextAttribute(file, "model_config"));
        QCOMPARE(config["class_name"], nlohmann::json("Sequential"));
        const auto& layers = config["config"]["layers"];
        QCOMPARE(layers.size(), std::size_t(19));
        QCOMPARE(layers[0]["class_name"], nlohmann::json("InputLayer"));
        QCOMPARE(layers[0]["config"]["batch_input_shape"],
                 nlohmann::json::parse("[null, 28, 28, 1]"));
        QCOMPARE(layers[1]["config"]["kernel_size"], nlohmann::json::parse("[3, 3]"));
        QCOMPARE(layers[4]["config"]["padding"], nlohmann::json("same"));

        const hid_t weights = H5Gopen2(file, "/model_weights", H5P_DEFAULT);
        bool nullPadded = false;
        const auto layerNames = fixedStringsAttribute(weights, "layer_names", &nullPadded);
        QVERIFY(nullPadded);
        QCOMPARE(layerNames.size(), std::size_t(18));
        QCOMPARE(layerNames.front(), std::string("conv2d_1"));
        QCOMPARE(layerNames.back(), std::string("activation_5"));
        QCOMPARE(test::readTextAttribute(weights, "keras_version"), std::string("2.13.1"));
        const hid_t conv = H5Gopen2(weights, "conv2d_1", H5P_DEFAULT);
        QCOMPARE(fixedStringsAttribute(conv, "weight_names"),
                 (std::vector<std::string>{"conv2d_1/kernel:0", "conv2d_1/bias:0"}));
        const hid_t bn = H5Gopen2(weights, "batch_normalization_1", H5P_DEFAULT);
        QCOMPARE(
            fixedStringsAttribute(bn, "weight_names"),
            (std::vector<std::string>{
                "batch_normalization_1/gamma:0", "batch_normalization_1/beta:0",
                "batch_normalization_1/moving_mean:0", "batch_normalization_1/moving_variance:0"}));
        const hid_t act = H5Gopen2(weights, "activation_1", H5P_DEFAULT);
        QCOMPARE(fixedStringsAttribute(act, "weight_names"),
                 std::vector<std::string>{"<empty float array>"});

        const hid_t kernel =
            H5Dopen2(file, "/model_weights/conv2d_1/conv2d_1/kernel:0", H5P_DEFAULT);
        QVERIFY(kernel >= 0);
        const hid_t type = H5Dget_type(kernel);
        QVERIFY(H5Tequal(type, H5T_IEEE_F32LE) > 0);
        const hid_t space = H5Dget_space(kernel);
        hsize_t dims[4] = {};
        QCOMPARE(H5Sget_simple_extent_ndims(space), 4);
        H5Sget_simple_extent_dims(space, dims, nullptr);
        QCOMPARE(std::vector<hsize_t>(dims, dims + 4), (std::vector<hsize_t>{3, 3, 1, 32}));
        std::vector<float> values(288);
        H5Dread(kernel, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
        QCOMPARE(values[0], 0.0262837503f);  // h5dump of the source fixture
        QCOMPARE(values[1], -0.176833227f);
        H5Sclose(space);
        H5Tclose(type);
        H5Dclose(kernel);
        for (hid_t g : {act, bn, conv, weights}) H5Gclose(g);
        H5Fclose(file);
    }

    void refusesToOverwriteTheSource() {
        const std::string dir = freshDir("source");
        const std::string source = dir + "/model.h5";
        fs::copy_file(test::fixture("k3legacy_mlp_ntu113.h5"), source);
        const std::string before = readBytes(source);
        const Model model = loadModel(source);
        fs::create_directories(dir + "/sub");
        fs::create_symlink(source, dir + "/link.h5");
        fs::create_hard_link(source, dir + "/hard.h5");
        for (const std::string& target : {source, dir + "/sub/../model.h5", dir + "/./model.h5",
                                          dir + "/link.h5", dir + "/hard.h5"}) {
            try {
                saveKerasH5(model, target);
                QFAIL(qPrintable(QString::fromStdString("overwrote the source through " + target)));
            } catch (const Error& e) {
                QVERIFY2(std::string(e.what()).find(
                             "refusing to overwrite the model's source file") != std::string::npos,
                         e.what());
            }
        }
        QVERIFY(readBytes(source) == before);
        QCOMPARE(filesIn(dir), (std::vector<std::string>{"hard.h5", "link.h5", "model.h5", "sub"}));
    }

    void replacesAnExistingFileOnlyOnSuccess() {
        const std::string dir = freshDir("replace");
        const std::string target = dir + "/out.h5";
        writeBytes(target, "previous contents");
        ::chmod(target.c_str(), 0640);

        // Refused before writing: weights only, NaN weights.
        QVERIFY_THROWS_EXCEPTION(
            Error, saveKerasH5(loadModel(test::fixture("k3_mlp800_voyager.weights.h5")), target));
        Model broken = loadModel(test::fixture("k3legacy_mlp_ntu113.h5"));
        broken.layers[1].bias = broken.layers[1].bias.clone();
        broken.layers[1].bias.mutableFloats()[0] = std::numeric_limits<float>::quiet_NaN();
        try {
            saveKerasH5(broken, target);
            QFAIL("saved NaN weights");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("layer 'dense_3' weight 'bias' contains NaN") !=
                         std::string::npos,
                     e.what());
        }
        // Failing half-way through the write.
        try {
            writeFileAtomically(target, [](const std::string& temp) {
                writeBytes(temp, "half a fi");
                throw Error("disk full (simulated)");
            });
            QFAIL("no error");
        } catch (const Error& e) {
            QCOMPARE(std::string(e.what()), std::string("disk full (simulated)"));
        }
        QCOMPARE(readBytes(target), std::string("previous contents"));
        QCOMPARE(filesIn(dir), std::vector<std::string>{"out.h5"});

        // Success replaces it, keeps its permissions and leaves no temporary file.
        saveKerasH5(loadModel(test::fixture("k3legacy_mlp_ntu113.h5")), target);
        QCOMPARE(loadModel(target).parameterCount(), 109386LL);
        struct stat info;
        QCOMPARE(::stat(target.c_str(), &info), 0);
        QCOMPARE(info.st_mode & 0777, mode_t(0640));
        QCOMPARE(filesIn(dir), std::vector<std::string>{"out.h5"});
    }

    void unwritablePlacesGiveClearErrors() {
        const Model model = loadModel(test::fixture("k3legacy_mlp_ntu113.h5"));
        try {
            saveKerasH5(model, test::tempDir() + "/no/such/folder/out.h5");
            QFAIL("wrote into a missing folder");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("cannot create a temporary file in") !=
                         std::string::npos,
                     e.what());
        }
        const std::string dir = freshDir("folder_target");
        QVERIFY_THROWS_EXCEPTION(Error, saveKerasH5(model, dir));
    }
};

QTEST_GUILESS_MAIN(KerasH5WriterTest)
#include "keras_h5_writer_test.moc"
