// loadModel on every fixture, checked against figures read independently of our code:
// layer lists from EXPECTED.md, parameter counts summed by hand from `h5ls -r` dataset
// shapes, weight values printed by `h5dump -m %.9g -d ...`, safetensors values decoded with
// Python's struct module. Then truncated and garbled copies of every fixture.
#include "core/io/model_loader.h"

#include <QtTest>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "core/io/keras_h5_writer.h"
#include "tests/support/test_paths.h"

using namespace cwb;
using cwb::test::readBytes;
using cwb::test::writeBytes;

namespace {

const Layer& layerNamed(const Model& model, const std::string& name) {
    const int index = model.findLayer(name);
    if (index < 0) throw std::runtime_error("no layer " + name);
    return model.layers[static_cast<std::size_t>(index)];
}

const Tensor& tensorNamed(const Model& model, const std::string& name) {
    for (const auto& t : model.tensors)
        if (t.name == name) return t.tensor;
    throw std::runtime_error("no tensor " + name);
}

QString shapesOf(const Model& model) {
    QStringList parts;
    for (const auto& layer : model.layers)
        parts << QString::fromStdString(shapeToString(layer.outputShape));
    return parts.join(' ');
}

QString classesOf(const Model& model) {
    QStringList parts;
    for (const auto& layer : model.layers) parts << QString::fromStdString(layer.className);
    return parts.join(' ');
}

// Loading must either succeed with a consistent model or throw one-line cwb::Error naming
// the file; anything else (another exception type, a crash) fails the test.
enum class Outcome { Loaded, Rejected };
Outcome loadOutcome(const std::string& path, std::string* message = nullptr) {
    try {
        const Model model = loadModel(path);
        if (model.evaluable) {
            if (model.layers.empty()) throw std::runtime_error("evaluable model without layers");
        } else if (model.tensors.empty()) {
            throw std::runtime_error("weights-only model without tensors");
        }
        return Outcome::Loaded;
    } catch (const Cancelled&) {
        throw;
    } catch (const Error& e) {
        const std::string what = e.what();
        if (what.find('\n') != std::string::npos)
            throw std::runtime_error("multi-line error: " + what);
        if (what.find(path) == std::string::npos)
            throw std::runtime_error("error does not name the file: " + what);
        if (message) *message = what;
        return Outcome::Rejected;
    }
}

// Byte ranges of the entries' data in a zip whose local headers carry their sizes (as
// Python's zipfile writes them): those bytes are covered by the entries' CRC-32.
std::vector<std::pair<std::size_t, std::size_t>> zipDataRanges(const std::string& zip) {
    const auto u16 = [&](std::size_t at) {
        return std::size_t(std::uint8_t(zip[at])) | std::size_t(std::uint8_t(zip[at + 1])) << 8;
    };
    const auto u32 = [&](std::size_t at) { return u16(at) | u16(at + 2) << 16; };
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    std::size_t at = 0;
    while (at + 30 <= zip.size() && u32(at) == 0x04034b50) {
        if (u16(at + 6) & 8) throw std::runtime_error("zip entry sizes are in a data descriptor");
        const std::size_t begin = at + 30 + u16(at + 26) + u16(at + 28);
        const std::size_t end = begin + u32(at + 18);
        ranges.emplace_back(begin, end);
        at = end;
    }
    return ranges;
}

const char* kAllFixtures[] = {
    "k2_cnn_bn_evanchien.h5",
    "k2_mlp_dropout_percy.h5",
    "k3legacy_mlp_ntu113.h5",
    "k3_cnn_umer.keras",
    "k3_mlp800_voyager.weights.h5",
    "k3_tfsmlayer_NEGATIVE.keras",
    "st_mnist_cnn_bn_torch.safetensors",
    "st_u8_data_fluent.safetensors",
};

}  // namespace

class ModelLoaderTest : public QObject {
    Q_OBJECT
private slots:
    void cleanupTestCase() { std::filesystem::remove_all(test::tempDir()); }

    void evaluableFixturesLoad_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("classes");
        QTest::addColumn<QString>("shapes");
        QTest::addColumn<qlonglong>("parameters");

        // (Conv2D valid, BN, ReLU, MaxPool same) x3 (32/64/128), Flatten, Dense 300 ReLU, Dropout,
        // Dense 10 softmax. Params: conv 3*3*1*32+32, 3*3*32*64+64, 3*3*64*128+128; BN
        // 4*(32+64+128); dense 512*300+300, 300*10+10 = 250478.
        QTest::newRow("keras 2.1 cnn") << "k2_cnn_bn_evanchien.h5"
                                       << "Keras 2.1.6 full model (.h5)"
                                       << "(28, 28, 1)"
                                       << "Conv2D BatchNormalization Activation MaxPooling2D "
                                          "Conv2D BatchNormalization Activation MaxPooling2D "
                                          "Conv2D BatchNormalization Activation MaxPooling2D "
                                          "Flatten Dense Activation Dropout Dense Activation"
                                       << "(26, 26, 32) (26, 26, 32) (26, 26, 32) (13, 13, 32) "
                                          "(11, 11, 64) (11, 11, 64) (11, 11, 64) (6, 6, 64) "
                                          "(4, 4, 128) (4, 4, 128) (4, 4, 128) (2, 2, 128) (512,) "
                                          "(300,) (300,) (300,) (10,) (10,)"
                                       << 250478LL;
        // 784*256+256 + 256*128+128 + 128*64+64 + 64*10+10 = 242762.
        QTest::newRow("tf.keras 2.8 mlp")
            << "k2_mlp_dropout_percy.h5"
            << "Keras 2.8.0 full model (.h5)"
            << "(28, 28)"
            << "Flatten Dense Dropout Dense Dropout Dense Dense"
            << "(784,) (256,) (256,) (128,) (128,) (64,) (10,)" << 242762LL;
        // 784*128+128 + 128*64+64 + 64*10+10 = 109386.
        QTest::newRow("keras 3 legacy mlp") << "k3legacy_mlp_ntu113.h5"
                                            << "Keras 3.10.0 legacy full model (.h5)"
                                            << "(28, 28, 1)"
                                            << "Flatten Dense Dense Dense"
                                            << "(784,) (128,) (64,) (10,)" << 109386LL;
        // 3*3*1*32+32 + 3*3*32*64+64 + 1600*128+128 + 128*10+10 = 225034.
        QTest::newRow("keras 3 cnn")
            << "k3_cnn_umer.keras"
            << "Keras 3.8.0 model (.keras)"
            << "(28, 28, 1)"
            << "Conv2D MaxPooling2D Conv2D MaxPooling2D Flatten Dense Dropout Dense"
            << "(26, 26, 32) (13, 13, 32) (11, 11, 64) (5, 5, 64) (1600,) (128,) (128,) (10,)"
            << 225034LL;
    }
    void evaluableFixturesLoad() {
        QFETCH(QString, file);
        QFETCH(QString, format);
        QFETCH(QString, input);
        QFETCH(QString, classes);
        QFETCH(QString, shapes);
        QFETCH(qlonglong, parameters);
        const std::string path = test::fixture(file.toStdString());
        const Model model = loadModel(path);
        QVERIFY(model.evaluable);
        QCOMPARE(QString::fromStdString(model.format), format);
        QCOMPARE(model.sourcePath, path);
        QCOMPARE(QString::fromStdString(shapeToString(model.inputShape)), input);
        QCOMPARE(classesOf(model), classes);
        QCOMPARE(shapesOf(model), shapes);
        QCOMPARE(model.parameterCount(), parameters);
        QVERIFY(model.endsInSoftmax());
        QVERIFY(model.tensors.empty());
        for (const Layer& layer : model.layers) {
            for (const Tensor* t : {&layer.kernel, &layer.bias, &layer.gamma, &layer.beta,
                                    &layer.movingMean, &layer.movingVariance})
                if (!t->empty()) QCOMPARE(t->dtype(), DType::F32);
        }
    }

    void kerasTwoCnnDetails() {
        const Model model = loadModel(test::fixture("k2_cnn_bn_evanchien.h5"));
        const Layer& conv = layerNamed(model, "conv2d_1");
        QCOMPARE(conv.conv.filters, 32);
        QCOMPARE(conv.conv.kernelH, 3);
        QCOMPARE(conv.conv.padding, Padding::Valid);
        QCOMPARE(conv.activation, ActivationKind::Linear);
        // h5dump -m %.9g -d /model_weights/conv2d_1/conv2d_1/kernel:0 -s 0,0,0,0 -c 1,1,1,2
        QCOMPARE(conv.kernel.floats()[0], 0.0262837503f);
        QCOMPARE(conv.kernel.floats()[1], -0.176833227f);
        const Layer& bn = layerNamed(model, "batch_normalization_1");
        QCOMPARE(bn.batchNorm.epsilon, 0.001f);
        QVERIFY(bn.batchNorm.center && bn.batchNorm.scale);
        QCOMPARE(bn.movingVariance.floats()[0], 0.00068333844f);
        QCOMPARE(bn.movingVariance.floats()[1], 0.00138263288f);
        const Layer& pool = layerNamed(model, "max_pooling2d_2");
        QCOMPARE(pool.pool.padding, Padding::Same);
        QCOMPARE(pool.pool.strideH, 2);
        QCOMPARE(layerNamed(model, "activation_1").activation, ActivationKind::Relu);
        QCOMPARE(layerNamed(model, "activation_5").activation, ActivationKind::Softmax);
        QCOMPARE(layerNamed(model, "dense_2").bias.floats()[3], 0.0319641046f);
        // 2*(26*26*32*9 + 11*11*64*288 + 4*4*128*576 + 512*300 + 300*10), worked by hand.
        QCOMPARE(model.flopsPerSample(), 7522416.0);
    }

    void otherWeightsMatchH5dump() {
        const Model percy = loadModel(test::fixture("k2_mlp_dropout_percy.h5"));
        QCOMPARE(layerNamed(percy, "dense").kernel.floats()[1], 0.0527962558f);  // kernel:0 (0,1)
        QCOMPARE(layerNamed(percy, "dense_3").bias.floats()[2], 0.13687408f);
        QCOMPARE(layerNamed(percy, "dropout").dropoutRate, 0.3f);
        const Model ntu = loadModel(test::fixture("k3legacy_mlp_ntu113.h5"));
        QCOMPARE(layerNamed(ntu, "dense_5").bias.floats()[1], -0.0939759389f);
        QCOMPARE(layerNamed(ntu, "dense_3").kernel.floats()[783 * 128 + 127], -0.0299955215f);
        const Model umer = loadModel(test::fixture("k3_cnn_umer.keras"));
        // model.weights.h5 inside the zip: layers/conv2d/vars/0 (2,1,0,31), layers/dense_1/vars/1
        // (5), layers/dense/vars/0 (1599,0)
        QCOMPARE(layerNamed(umer, "conv2d").kernel.floats()[((2 * 3 + 1) * 1 + 0) * 32 + 31],
                 -0.303017765f);
        QCOMPARE(layerNamed(umer, "dense_1").bias.floats()[5], -0.135621965f);
        QCOMPARE(layerNamed(umer, "dense").kernel.floats()[1599 * 128], -0.122383855f);
        QCOMPARE(layerNamed(umer, "conv2d_1").activation, ActivationKind::Relu);
        QCOMPARE(layerNamed(umer, "max_pooling2d_1").pool.padding, Padding::Valid);
        QCOMPARE(layerNamed(umer, "dropout").dropoutRate, 0.2f);
    }

    void tfsmLayerIsRejected() {
        const std::string path = test::fixture("k3_tfsmlayer_NEGATIVE.keras");
        try {
            loadModel(path);
            QFAIL("loaded a TFSMLayer model");
        } catch (const Error& e) {
            const std::string what = e.what();
            QVERIFY2(what.find(path) != std::string::npos, e.what());
            QVERIFY2(
                what.find("layer 'tfsm_layer' (TFSMLayer) is not supported") != std::string::npos,
                e.what());
            QVERIFY2(what.find("supported layers: ") != std::string::npos, e.what());
        }
    }

    void kerasWeightsFileListsTensors() {
        const Model model = loadModel(test::fixture("k3_mlp800_voyager.weights.h5"));
        QVERIFY(!model.evaluable);
        QCOMPARE(model.notEvaluableReason,
                 std::string("weights only: the file has no architecture"));
        QCOMPARE(model.format, std::string("Keras 3 weights only (.weights.h5)"));
        QVERIFY(model.layers.empty());
        QCOMPARE(model.tensors.size(), std::size_t(4));
        const std::vector<std::pair<std::string, Shape>> expected{
            {"layers/dense/vars/0", {784, 800}},
            {"layers/dense/vars/1", {800}},
            {"layers/dense_1/vars/0", {800, 10}},
            {"layers/dense_1/vars/1", {10}}};
        for (std::size_t i = 0; i < expected.size(); ++i) {
            QCOMPARE(model.tensors[i].name, expected[i].first);
            QCOMPARE(model.tensors[i].tensor.shape(), expected[i].second);
            QCOMPARE(model.tensors[i].tensor.dtype(), DType::F32);
        }
        QCOMPARE(tensorNamed(model, "layers/dense_1/vars/1").floats()[2], 0.167278573f);
        QCOMPARE(tensorNamed(model, "layers/dense/vars/0").floats()[0], 0.0297629908f);
        QCOMPARE(model.parameterCount(), 784LL * 800 + 800 + 800 * 10 + 10);
    }

    void torchSafetensorsListsTensors() {
        const Model model = loadModel(test::fixture("st_mnist_cnn_bn_torch.safetensors"));
        QVERIFY(!model.evaluable);
        QCOMPARE(model.notEvaluableReason,
                 std::string("weights only: the file has no architecture"));
        QCOMPARE(model.tensors.size(), std::size_t(23));
        // File (offset) order: the three rank-0 counters come first.
        QCOMPARE(model.tensors[0].name, std::string("bn1.num_batches_tracked"));
        const Tensor& counter = tensorNamed(model, "bn2.num_batches_tracked");
        QCOMPARE(counter.dtype(), DType::I64);
        QCOMPARE(counter.shape(), Shape{});
        QCOMPARE(counter.elements(), std::int64_t(1));
        QCOMPARE(counter.toFloatVector().at(0), 3752.f);
        const Tensor& conv = tensorNamed(model, "conv1.weight");
        QCOMPARE(conv.dtype(), DType::F32);
        QCOMPARE(conv.shape(), (Shape{4, 1, 3, 3}));
        QCOMPARE(conv.floats()[0], 0.112718068f);
        QCOMPARE(tensorNamed(model, "fc.bias").floats()[9], -0.0325220451f);
        QCOMPARE(tensorNamed(model, "fc.weight").shape(), (Shape{10, 144}));
    }

    void unalignedU8SafetensorsListsTensors() {
        const Model model = loadModel(test::fixture("st_u8_data_fluent.safetensors"));
        QVERIFY(!model.evaluable);
        const std::vector<std::pair<std::string, Shape>> expected{{"Xtrain", {6000, 196}},
                                                                  {"Ytrain", {6000, 10}},
                                                                  {"Xtest", {1000, 196}},
                                                                  {"Ytest", {1000, 10}}};
        QCOMPARE(model.tensors.size(), expected.size());
        for (std::size_t i = 0; i < expected.size(); ++i) {
            QCOMPARE(model.tensors[i].name, expected[i].first);
            QCOMPARE(model.tensors[i].tensor.dtype(), DType::U8);
            QCOMPARE(model.tensors[i].tensor.shape(), expected[i].second);
        }
        // Sums and positions from Python over the raw bytes (data starts at 8 + 330 = 338).
        const auto sum = [](const Tensor& t) {
            long long s = 0;
            for (std::int64_t i = 0; i < t.elements(); ++i) s += std::to_integer<int>(t.bytes()[i]);
            return s;
        };
        QCOMPARE(sum(tensorNamed(model, "Xtrain")), 150020LL);
        QCOMPARE(sum(tensorNamed(model, "Xtest")), 24696LL);
        QCOMPARE(sum(tensorNamed(model, "Ytrain")), 6000LL);
        QCOMPARE(std::to_integer<int>(tensorNamed(model, "Xtrain").bytes()[34]), 1);
        QCOMPARE(std::to_integer<int>(tensorNamed(model, "Xtrain").bytes()[33]), 0);
        QCOMPARE(std::to_integer<int>(tensorNamed(model, "Ytrain").bytes()[2]), 1);
    }

    // The window loads in a worker thread while other threads may load or save: HDF5 (not
    // thread-safe in Debian's build) must be serialised inside core.
    void concurrentLoadsAndSavesAgree() {
        const char* files[] = {"k2_cnn_bn_evanchien.h5", "k3_cnn_umer.keras",
                               "k3legacy_mlp_ntu113.h5", "st_mnist_cnn_bn_torch.safetensors"};
        const long long expected[] = {250478, 225034, 109386, 3069};
        std::atomic<int> failures{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 6; ++t) {
            threads.emplace_back([&, t] {
                try {
                    for (int round = 0; round < 4; ++round) {
                        const int which = (t + round) % 4;
                        const Model model = loadModel(test::fixture(files[which]));
                        if (model.parameterCount() != expected[which]) ++failures;
                        if (model.evaluable && t % 2 == 0) {
                            const std::string out =
                                test::tempDir() + "/thread" + std::to_string(t) + ".h5";
                            saveKerasH5(model, out);
                            if (loadModel(out).parameterCount() != expected[which]) ++failures;
                        }
                    }
                } catch (const std::exception& e) {
                    qWarning("%s", e.what());
                    ++failures;
                }
            });
        }
        for (auto& thread : threads) thread.join();
        QCOMPARE(failures.load(), 0);
    }

    void missingAndUnknownFilesAreRejected() {
        std::string message;
        const std::string missing = test::tempDir() + "/does_not_exist.h5";
        QCOMPARE(loadOutcome(missing, &message), Outcome::Rejected);
        QVERIFY2(message.find("file not found") != std::string::npos, message.c_str());
        QCOMPARE(loadOutcome(test::tempDir(), &message), Outcome::Rejected);
        QVERIFY2(message.find("not a regular file") != std::string::npos, message.c_str());
        const std::string text = test::tempDir() + "/notes.txt";
        writeBytes(text, "just some text, not a model at all\n");
        QCOMPARE(loadOutcome(text, &message), Outcome::Rejected);
        QVERIFY2(message.find("not a recognised model file") != std::string::npos, message.c_str());
        const std::string empty = test::tempDir() + "/empty.safetensors";
        writeBytes(empty, "");
        QCOMPARE(loadOutcome(empty, &message), Outcome::Rejected);
    }

    // Found by fuzzing: this byte is the size of a global-heap object (the model_config
    // string), and Debian's HDF5 1.10 memcpy()s past its buffer when it is corrupt. The
    // loader must contain that crash and report the file as corrupt.
    void hdf5CrashOnCorruptHeapIsContained() {
        std::string bytes = readBytes(test::fixture("k3legacy_mlp_ntu113.h5"));
        QCOMPARE(int(bytes[5558]), 0);
        bytes[5558] = 0x03;
        const std::string copy = test::tempDir() + "/heap_size_corrupt.h5";
        writeBytes(copy, bytes);
        std::string message;
        QCOMPARE(loadOutcome(copy, &message), Outcome::Rejected);
        qInfo("%s", message.c_str());
    }

    void truncatedCopiesAreRejected_data() {
        QTest::addColumn<QString>("file");
        for (const char* file : kAllFixtures) QTest::newRow(file) << file;
    }
    void truncatedCopiesAreRejected() {
        QFETCH(QString, file);
        const std::string bytes = readBytes(test::fixture(file.toStdString()));
        QVERIFY(bytes.size() > 10000);
        const std::string copy = test::tempDir() + "/truncated_" + file.toStdString();
        for (const std::size_t cut :
             {std::size_t(0), std::size_t(1), std::size_t(8), std::size_t(9), std::size_t(100),
              std::size_t(2048), bytes.size() / 3, bytes.size() / 2, bytes.size() - 4096,
              bytes.size() - 1}) {
            writeBytes(copy, bytes.substr(0, cut));
            std::string message;
            QVERIFY2(loadOutcome(copy, &message) == Outcome::Rejected,
                     qPrintable(QString("cut at %1 loaded").arg(cut)));
        }
    }

    // Byte flips at deterministic offsets: dense near the start (headers) and spread over
    // the file. A flip inside raw weight data cannot be detected by HDF5 or safetensors (they
    // carry no checksum), so those copies may load; every copy must load consistently or be
    // rejected with a clean error. Where the format does protect the bytes, rejection is required.
    void garbledCopiesFailCleanly_data() {
        QTest::addColumn<QString>("file");
        for (const char* file : kAllFixtures) QTest::newRow(file) << file;
    }
    void garbledCopiesFailCleanly() {
        QFETCH(QString, file);
        const std::string name = file.toStdString();
        const std::string bytes = readBytes(test::fixture(name));
        const std::string copy = test::tempDir() + "/garbled_" + name;
        std::uint64_t state = 0x9e3779b97f4a7c15ull;  // fixed seed: the same offsets every run
        const auto next = [&state] {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            return state >> 33;
        };
        const auto crcProtected =
            name.ends_with(".keras") ? zipDataRanges(bytes) : decltype(zipDataRanges(bytes)){};
        QVERIFY(name.ends_with(".keras") == !crcProtected.empty());
        const bool safetensors = name.ends_with(".safetensors");
        std::uint64_t headerEnd = 8;  // the signature; for safetensors also the JSON header
        if (safetensors) {
            std::uint64_t length = 0;
            for (int i = 7; i >= 0; --i)
                length = (length << 8) | static_cast<unsigned char>(bytes[i]);
            headerEnd = 8 + length;
        }
        int rejected = 0, loaded = 0;
        for (int i = 0; i < 40; ++i) {
            const std::size_t offset =
                i < 20 ? next() % std::min<std::size_t>(bytes.size(), 4096) : next() % bytes.size();
            const bool inEntryData =
                std::any_of(crcProtected.begin(), crcProtected.end(),
                            [&](const auto& r) { return offset >= r.first && offset < r.second; });
            std::string garbled = bytes;
            garbled[offset] = static_cast<char>(garbled[offset] ^ 0xff);
            writeBytes(copy, garbled);
            std::string message;
            const Outcome outcome = loadOutcome(copy, &message);
            (outcome == Outcome::Rejected ? rejected : loaded)++;
            // Zip entry data is CRC-checked, and every byte of a safetensors header or of any
            // file's signature is structural: those flips must be caught.
            if (inEntryData || offset < headerEnd)
                QVERIFY2(outcome == Outcome::Rejected,
                         qPrintable(QString("flip at %1 loaded").arg(offset)));
        }
        qInfo("%s: %d garbled copies rejected, %d loaded", name.c_str(), rejected, loaded);
        QVERIFY(rejected > 0);
    }
};

QTEST_GUILESS_MAIN(ModelLoaderTest)
#include "model_loader_test.moc"
