// Hostile and unusual inputs for the readers: hand-built safetensors headers, zip bombs,
// oversized files, and HDF5 files edited with the HDF5 C API (NaN weights, fixed-length
// configs, float64/float16 weights, huge declared datasets, non-Keras files).
#include <zlib.h>

#include <QtTest>

// tests/CMakeLists.txt gives tests no HDF5 include path; Debian's header lives here and
// finds its siblings relative to itself. The library comes in through cwb_core.
#include <hdf5/serial/hdf5.h>

#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "core/error.h"
#include "core/io/harvest.h"
#include "core/io/keras_h5_writer.h"
#include "core/io/model_loader.h"
#include "core/io/safetensors.h"
#include "core/util/child_process.h"
#include "tests/support/h5_text.h"
#include "tests/support/test_paths.h"

using namespace cwb;
using cwb::test::readBytes;
using cwb::test::writeBytes;

namespace {

std::string temp(const std::string& name) { return test::tempDir() + "/" + name; }

// The message of the cwb::Error that `load` throws, or "" when it does not throw.
template <typename F>
std::string errorOf(F&& load) {
    try {
        load();
    } catch (const Error& e) {
        return e.what();
    }
    return {};
}

#define EXPECT_ERROR(expression, fragment)                                        \
    do {                                                                          \
        const std::string message_ = errorOf([&] { (void)(expression); });        \
        QVERIFY2(!message_.empty(), "no cwb::Error thrown");                      \
        QVERIFY2(message_.find(fragment) != std::string::npos, message_.c_str()); \
        QVERIFY2(message_.find('\n') == std::string::npos, message_.c_str());     \
    } while (0)

// --- safetensors -----------------------------------------------------------------------

std::string littleEndian64(std::uint64_t v) {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    return out;
}

std::string safetensors(const std::string& header, const std::string& data) {
    return littleEndian64(header.size()) + header + data;
}

std::shared_ptr<Storage> storageOf(const std::string& bytes) {
    auto storage = std::make_shared<OwnedStorage>(bytes.size());
    if (!bytes.empty()) std::memcpy(storage->mutableData(), bytes.data(), bytes.size());
    return storage;
}

std::vector<NamedTensor> parse(const std::string& bytes) {
    return parseSafetensors(storageOf(bytes), "test.safetensors");
}

std::string floatBytes(std::initializer_list<float> values) {
    std::string out;
    for (float v : values) out.append(reinterpret_cast<const char*>(&v), 4);
    return out;
}

// Odd length (unaligned data), rank 0, metadata, brackets inside a string, an empty tensor.
const char* const kEdgeCaseHeader =
    R"({"__metadata__":{"format":"pt","note":"[[[[[[[[[[[[[[[[[["},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
    R"("v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"h":{"dtype":"F16","shape":[2],"data_offsets":[12,16]},)"
    R"("b":{"dtype":"BF16","shape":[1],"data_offsets":[16,18]},"z":{"dtype":"I8","shape":[0,5],"data_offsets":[18,18]}} )";

// --- zip -------------------------------------------------------------------------------

struct ZipEntry {
    std::string name;
    std::string data;  // as stored (already deflated when deflated == true)
    std::uint32_t crc = 0;
    std::uint64_t size = 0;  // declared uncompressed size
    bool deflated = false;
};

std::string le16(unsigned v) { return {char(v & 0xff), char((v >> 8) & 0xff)}; }
std::string le32(std::uint32_t v) { return le16(v & 0xffff) + le16(v >> 16); }

ZipEntry storedEntry(const std::string& name, const std::string& data) {
    return {name, data,
            static_cast<std::uint32_t>(
                crc32(0, reinterpret_cast<const Bytef*>(data.data()), data.size())),
            data.size(), false};
}

ZipEntry deflatedEntry(const std::string& name, const std::string& plain) {
    z_stream z{};
    deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);  // raw deflate, as zip stores it
    std::string out(deflateBound(&z, plain.size()), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
    z.avail_in = static_cast<uInt>(plain.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    ZipEntry entry = storedEntry(name, plain);
    entry.data = out;
    entry.deflated = true;
    return entry;
}

// A minimal zip archive (no zip64): local headers, data, central directory, end record.
std::string zipArchive(const std::vector<ZipEntry>& entries) {
    std::string body, central;
    for (const ZipEntry& e : entries) {
        const std::string common =
            le16(20) + le16(0) + le16(e.deflated ? 8 : 0) + le16(0) + le16(0x21) + le32(e.crc) +
            le32(static_cast<std::uint32_t>(e.data.size())) +
            le32(static_cast<std::uint32_t>(e.size)) + le16(e.name.size()) + le16(0);
        central += le32(0x02014b50) + le16(20) + common + le16(0) + le16(0) + le16(0) + le32(0) +
                   le32(static_cast<std::uint32_t>(body.size())) + e.name;
        body += le32(0x04034b50) + common + e.name + e.data;
    }
    return body + central + le32(0x06054b50) + le16(0) + le16(0) + le16(entries.size()) +
           le16(entries.size()) + le32(static_cast<std::uint32_t>(central.size())) +
           le32(static_cast<std::uint32_t>(body.size())) + le16(0);
}

// Entries of a zip whose local headers carry sizes and whose data is stored (the fixtures).
std::map<std::string, std::string> storedZipEntries(const std::string& zip) {
    const auto u16 = [&](std::size_t at) {
        return std::size_t(std::uint8_t(zip[at])) | std::size_t(std::uint8_t(zip[at + 1])) << 8;
    };
    const auto u32 = [&](std::size_t at) { return u16(at) | u16(at + 2) << 16; };
    std::map<std::string, std::string> out;
    std::size_t at = 0;
    while (at + 30 <= zip.size() && u32(at) == 0x04034b50) {
        const std::string name = zip.substr(at + 30, u16(at + 26));
        const std::size_t begin = at + 30 + u16(at + 26) + u16(at + 28);
        out[name] = zip.substr(begin, u32(at + 18));
        at = begin + u32(at + 18);
    }
    return out;
}

// --- HDF5 editing ------------------------------------------------------------------------

// A Keras .h5 written by saveKerasH5 from the Keras 3 legacy fixture (dense_3..dense_5),
// for the edits below.
std::string savedMlp(const std::string& name) {
    const std::string path = temp(name);
    saveKerasH5(loadModel(test::fixture("k3legacy_mlp_ntu113.h5")), path);
    return path;
}

template <typename F>
void editH5(const std::string& path, F&& edit) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    if (file < 0) throw std::runtime_error("cannot open " + path);
    edit(file);
    H5Fclose(file);
}

std::vector<float> readFloats(hid_t file, const char* dataset) {
    const hid_t d = H5Dopen2(file, dataset, H5P_DEFAULT);
    const hid_t space = H5Dget_space(d);
    std::vector<float> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    H5Sclose(space);
    H5Dclose(d);
    return values;
}

// Replaces a dataset with one of `fileType` and `dims`, written from float values.
void replaceDataset(hid_t file, const char* dataset, hid_t fileType,
                    const std::vector<hsize_t>& dims, const std::vector<float>& values,
                    hid_t createPlist = H5P_DEFAULT) {
    H5Ldelete(file, dataset, H5P_DEFAULT);
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t d =
        H5Dcreate2(file, dataset, fileType, space, H5P_DEFAULT, createPlist, H5P_DEFAULT);
    if (!values.empty())
        H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    H5Dclose(d);
    H5Sclose(space);
}

void writeFixedStringAttribute(hid_t object, const char* name, const std::string& text) {
    H5Adelete(object, name);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, text.size());
    H5Tset_strpad(type, H5T_STR_NULLPAD);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attribute = H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attribute, type, text.data());
    H5Aclose(attribute);
    H5Sclose(space);
    H5Tclose(type);
}

void writeVariableStringAttribute(hid_t object, const char* name, const std::string& text) {
    H5Adelete(object, name);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attribute = H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    const char* data = text.c_str();
    H5Awrite(attribute, type, &data);
    H5Aclose(attribute);
    H5Sclose(space);
    H5Tclose(type);
}

const Layer& layerNamed(const Model& model, const std::string& name) {
    return model.layers.at(static_cast<std::size_t>(model.findLayer(name)));
}

}  // namespace

class HostileInputLoaderTest : public QObject {
    Q_OBJECT
private slots:
    void cleanupTestCase() { std::filesystem::remove_all(test::tempDir()); }

    // --- safetensors headers ---

    void safetensorsHeadersAreValidated_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        const auto row = [](const char* name, const std::string& bytes, const char* expected) {
            QTest::newRow(name) << QByteArray(bytes.data(), static_cast<int>(bytes.size()))
                                << expected;
        };
        row("shorter than the length field", "\x02\0\0", "too short");
        row("huge header length", littleEndian64(~0ull) + "{}", "exceeds the file size");
        row("header length past the end", littleEndian64(100) + "{}", "exceeds the file size");
        row("offsets past the data",
            safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "1234"),
            "lie outside the 4 bytes of data");
        row("begin after end",
            safetensors(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[4,2]}})", "1234"),
            "lie outside");
        row("overlapping tensors",
            safetensors(
                R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                std::string(12, '\0')),
            "overlap");
        row("shape overflows",
            safetensors(
                R"({"a":{"dtype":"U8","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,0]}})",
                ""),
            "overflows");
        row("dimension beyond int64",
            safetensors(
                R"({"a":{"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,0]}})", ""),
            "overflows");
        row("size disagrees with shape",
            safetensors(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", "12345678"),
            "needs 12 bytes but data_offsets span 8");
        row("negative offset",
            safetensors(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}})", "1"),
            "must be a non-negative integer");
        row("fractional dimension",
            safetensors(R"({"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}})", "1"),
            "must be a non-negative integer");
        row("bad JSON", safetensors(R"({"a": {"dtype": )", ""), "malformed JSON");
        row("header is not an object", safetensors("[1, 2]", ""), "not a JSON object");
        row("entry without offsets", safetensors(R"({"a":{"dtype":"F32","shape":[1]}})", "1234"),
            "needs dtype, shape and data_offsets");
        row("fp8 dtype",
            safetensors(R"({"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", "12"),
            "tensor 'w': dtype F8_E4M3 is not supported");
        row("metadata not an object", safetensors(R"({"__metadata__":[1]})", ""),
            "__metadata__ must be an object");
        const std::string deep =
            "{\"a\":" + std::string(200000, '[') + std::string(200000, ']') + "}";
        row("deeply nested JSON", safetensors(deep, ""), "nested more than 8 levels");
    }
    void safetensorsHeadersAreValidated() {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        const std::string raw(bytes.constData(), static_cast<std::size_t>(bytes.size()));
        EXPECT_ERROR(parse(raw), expected.toStdString());
        // The same bytes as a file through loadModel fail too (as safetensors, or as an
        // unrecognised file when byte 8 is not '{').
        const std::string path = temp("hostile.safetensors");
        writeBytes(path, raw);
        EXPECT_ERROR(loadModel(path), path);
    }

    void validEdgeCasesAreRead() {
        const std::string header = kEdgeCaseHeader;
        QVERIFY(header.size() % 4 != 0);
        const std::string data = floatBytes({2.5f, -1.25f, 3.0f}) +
                                 std::string("\x00\x3c\x00\xc0", 4) + std::string("\xc0\xbf", 2);
        const auto tensors = parse(safetensors(header, data));
        QCOMPARE(tensors.size(), std::size_t(5));
        QCOMPARE(tensors[0].name, std::string("s"));
        QCOMPARE(tensors[0].tensor.shape(), Shape{});
        QCOMPARE(tensors[0].tensor.floats()[0], 2.5f);
        QCOMPARE(tensors[1].tensor.floats()[1], 3.0f);
        QCOMPARE(tensors[2].tensor.toFloatVector(), (std::vector<float>{1.0f, -2.0f}));
        QCOMPARE(tensors[3].tensor.toFloatVector(), (std::vector<float>{-1.5f}));
        QCOMPARE(tensors[4].tensor.elements(), std::int64_t(0));
        for (const auto& t : tensors)
            if (t.tensor.elements() > 0)
                QCOMPARE(reinterpret_cast<std::uintptr_t>(t.tensor.bytes()) %
                             dtypeSize(t.tensor.dtype()),
                         std::uintptr_t(0));
    }

    void alignedTensorsAreViewsIntoOneStorage() {
        const std::string header =
            R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
        const std::string padded = header + std::string((8 - (8 + header.size()) % 8) % 8, ' ');
        const auto storage = storageOf(safetensors(padded, floatBytes({1.f, 2.f})));
        const auto tensors = parseSafetensors(storage, "views");
        QCOMPARE(tensors[0].tensor.bytes(), storage->data() + 8 + padded.size());
        QCOMPARE(tensors[1].tensor.bytes(), storage->data() + 8 + padded.size() + 4);
    }

    // --- .keras zips ---

    void zipBombIsRefused() {
        auto entries = storedZipEntries(readBytes(test::fixture("k3_cnn_umer.keras")));
        QCOMPARE(entries.size(), std::size_t(3));
        ZipEntry bomb = deflatedEntry("model.weights.h5", std::string(1 << 16, '\0'));
        bomb.size = 3'000'000'000u;  // declared: 3 GB
        const std::string path = temp("bomb.keras");
        writeBytes(path, zipArchive({storedEntry("metadata.json", entries["metadata.json"]),
                                     storedEntry("config.json", entries["config.json"]), bomb}));
        EXPECT_ERROR(
            loadModel(path),
            "model.weights.h5 declares 2861 MiB uncompressed, more than the 2048 MiB allowed");
    }

    void entryLongerThanDeclaredIsRefused() {
        auto entries = storedZipEntries(readBytes(test::fixture("k3_cnn_umer.keras")));
        ZipEntry liar = deflatedEntry("model.weights.h5", std::string(1 << 20, 'x'));
        liar.size = 4096;
        const std::string path = temp("liar.keras");
        writeBytes(path, zipArchive({storedEntry("config.json", entries["config.json"]), liar}));
        EXPECT_ERROR(loadModel(path), path + ": model.weights.h5: ");
    }

    void rebuiltZipLoadsAndDeflateWorks() {
        // Control for the two tests above: the same builder with honest sizes loads.
        auto entries = storedZipEntries(readBytes(test::fixture("k3_cnn_umer.keras")));
        const std::string path = temp("rebuilt.keras");
        writeBytes(path,
                   zipArchive({storedEntry("metadata.json", entries["metadata.json"]),
                               deflatedEntry("config.json", entries["config.json"]),
                               deflatedEntry("model.weights.h5", entries["model.weights.h5"])}));
        const Model model = loadModel(path);
        QCOMPARE(model.parameterCount(), 225034LL);
    }

    void zipWithoutWeightsOrConfigIsRefused() {
        auto entries = storedZipEntries(readBytes(test::fixture("k3_cnn_umer.keras")));
        const std::string noWeights = temp("noweights.keras");
        writeBytes(noWeights, zipArchive({storedEntry("config.json", entries["config.json"])}));
        EXPECT_ERROR(loadModel(noWeights), "no model.weights.h5");
        const std::string noConfig = temp("noconfig.keras");
        writeBytes(noConfig,
                   zipArchive({storedEntry("model.weights.h5", entries["model.weights.h5"])}));
        EXPECT_ERROR(loadModel(noConfig), "the archive has no config.json");
        // Weights of another model under the right names: the shapes do not fit.
        const std::string mismatched = temp("mismatched.keras");
        std::string config = entries["config.json"];
        const auto at = config.find("\"units\": 128");
        QVERIFY(at != std::string::npos);
        config.replace(at, 12, "\"units\": 129");
        writeBytes(mismatched,
                   zipArchive({storedEntry("config.json", config),
                               storedEntry("model.weights.h5", entries["model.weights.h5"])}));
        EXPECT_ERROR(loadModel(mismatched),
                     "layer 'dense' (Dense): kernel has shape (1600, 128), expected (1600, 129)");
    }

    // Found by fuzzing the weights inside a .keras: Debian's HDF5 1.10 segfaults on this
    // byte of the in-memory model.weights.h5. It must come back as an error.
    void crashInsideKerasWeightsIsContained() {
        auto entries = storedZipEntries(readBytes(test::fixture("k3_cnn_umer.keras")));
        std::string& weights = entries["model.weights.h5"];
        QCOMPARE(int(weights[1988]), 0);
        weights[1988] = char(0xff);
        const std::string path = temp("inner_crash.keras");
        writeBytes(path, zipArchive({storedEntry("config.json", entries["config.json"]),
                                     storedEntry("model.weights.h5", weights)}));
        EXPECT_ERROR(loadModel(path), path + ": model.weights.h5");
    }

    void childProcessReturnsAnswersAndReportsCrashesAndHangs() {
        const auto fiveSeconds = std::chrono::seconds(5);
        QCOMPARE(runInChildProcess([] { return std::string("answer"); }, "ok", fiveSeconds),
                 std::string("answer"));
        // Larger than a pipe's buffer, so the parent must read while the child writes.
        const std::string big(3 << 20, 'x');
        QCOMPARE(runInChildProcess([&] { return big; }, "big", fiveSeconds).size(), big.size());
        // The child's memory is its own: what it changes stays there.
        int touched = 0;
        runInChildProcess(
            [&] {
                touched = 1;
                return std::string();
            },
            "copy", fiveSeconds);
        QCOMPARE(touched, 0);
        EXPECT_ERROR(runInChildProcess([]() -> std::string { throw Error("ordinary failure"); },
                                       "throws", fiveSeconds),
                     "ordinary failure");
        EXPECT_ERROR(runInChildProcess([]() -> std::string { throw std::length_error("too long"); },
                                       "other.h5", fiveSeconds),
                     "other.h5: reading the file failed (too long)");
        EXPECT_ERROR(
            runInChildProcess(
                []() -> std::string {
                    std::raise(SIGSEGV);
                    return {};
                },
                "crashing.h5", fiveSeconds),
            "crashing.h5: reading the file crashed the format library (Segmentation fault)");
        EXPECT_ERROR(
            runInChildProcess([]() -> std::string { std::_Exit(3); }, "exiting.h5", fiveSeconds),
            "exiting.h5: reading the file stopped the format library (exit status 3)");
        const auto start = std::chrono::steady_clock::now();
        EXPECT_ERROR(runInChildProcess(
                         []() -> std::string {
                             for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
                         },
                         "looping.h5", std::chrono::milliseconds(300)),
                     "looping.h5: reading the file did not finish within");
        QVERIFY(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    }

    // What a reading child sends back survives the trip, and a cut-off answer is refused.
    void harvestRoundTripsAndRefusesDamagedBytes() {
        Harvest harvest;
        harvest.texts["model_config"] = std::string("{\"a\": 1}\0tail", 14);
        auto bytes = std::make_shared<OwnedStorage>(3);
        std::memcpy(bytes->mutableData(), "\x01\x02\xff", 3);
        harvest.tensors.push_back(
            {2, "kernel", Tensor::fromFloats({2, 2}, {1.5f, -2.f, 0.f, 3.25f})});
        harvest.tensors.push_back({-1, "layers/x/vars/0", Tensor({3}, DType::U8, bytes)});
        harvest.tensors.push_back({-1, "empty", Tensor::zeros({0, 4})});
        const std::string encoded = encodeHarvest(harvest);
        const Harvest back = decodeHarvest(encoded, "trip");
        QCOMPARE(back.text("model_config"), harvest.texts["model_config"]);
        QCOMPARE(back.text("missing"), std::string());
        QCOMPARE(back.tensors.size(), std::size_t(3));
        QCOMPARE(back.tensors[0].layer, 2);
        QCOMPARE(back.tensors[0].name, std::string("kernel"));
        QCOMPARE(back.tensors[0].tensor.shape(), (Shape{2, 2}));
        QCOMPARE(back.tensors[0].tensor.floats()[3], 3.25f);
        QCOMPARE(back.tensors[1].tensor.dtype(), DType::U8);
        QCOMPARE(std::to_integer<int>(back.tensors[1].tensor.bytes()[2]), 0xff);
        QCOMPARE(back.tensors[2].tensor.shape(), (Shape{0, 4}));
        EXPECT_ERROR(
            decodeHarvest(std::string_view(encoded).substr(0, encoded.size() - 1), "cut.h5"),
            "cut.h5: the reading process sent back a truncated answer");
        EXPECT_ERROR(decodeHarvest(encoded + "x", "long.h5"),
                     "long.h5: the reading process sent back more");
    }

    // --- HDF5 ---

    void nonKerasHdf5IsRejected() {
        const std::string path = temp("plain.h5");
        const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        replaceDataset(file, "x", H5T_IEEE_F32LE, {3}, {1, 2, 3});
        H5Fclose(file);
        EXPECT_ERROR(
            loadModel(path),
            path +
                ": HDF5 file has no Keras model_config or layers group; it is not a Keras model");
    }

    void nanWeightIsReportedWithLayerAndTensor() {
        const std::string path = savedMlp("nan.h5");
        editH5(path, [](hid_t file) {
            const char* name = "/model_weights/dense_4/dense_4/kernel:0";
            auto values = readFloats(file, name);
            values[77] = std::nanf("");
            replaceDataset(file, name, H5T_IEEE_F32LE, {128, 64}, values);
        });
        EXPECT_ERROR(loadModel(path),
                     path + ": layer 'dense_4' (Dense) weight 'kernel' contains NaN at element 77");
        const std::string inf = savedMlp("inf.h5");
        editH5(inf, [](hid_t file) {
            const char* name = "/model_weights/dense_5/dense_5/bias:0";
            auto values = readFloats(file, name);
            values[3] = -INFINITY;
            replaceDataset(file, name, H5T_IEEE_F32LE, {10}, values);
        });
        EXPECT_ERROR(loadModel(inf),
                     "layer 'dense_5' (Dense) weight 'bias' contains Inf at element 3");
    }

    void fixedLengthModelConfigLoads() {
        const std::string path = savedMlp("fixed_config.h5");
        editH5(path, [](hid_t file) {
            writeFixedStringAttribute(file, "model_config",
                                      test::readTextAttribute(file, "model_config"));
        });
        const Model model = loadModel(path);
        QCOMPARE(model.layers.size(), std::size_t(4));
        QCOMPARE(model.parameterCount(), 109386LL);
    }

    void float64AndFloat16WeightsAreConverted() {
        const std::string path = savedMlp("widths.h5");
        std::vector<float> kernel, bias;
        editH5(path, [&](hid_t file) {
            kernel = readFloats(file, "/model_weights/dense_5/dense_5/kernel:0");
            bias = readFloats(file, "/model_weights/dense_5/dense_5/bias:0");
            replaceDataset(file, "/model_weights/dense_5/dense_5/kernel:0", H5T_IEEE_F64LE,
                           {64, 10}, kernel);
            // IEEE half precision as h5py defines float16.
            const hid_t half = H5Tcopy(H5T_IEEE_F32LE);
            H5Tset_fields(half, 15, 10, 5, 0, 10);
            H5Tset_size(half, 2);
            H5Tset_ebias(half, 15);
            replaceDataset(file, "/model_weights/dense_5/dense_5/bias:0", half, {10}, bias);
            H5Tclose(half);
        });
        const Model model = loadModel(path);
        const Layer& dense = layerNamed(model, "dense_5");
        QCOMPARE(dense.kernel.dtype(), DType::F32);
        QVERIFY(std::equal(kernel.begin(), kernel.end(), dense.kernel.floats().begin()));
        for (std::size_t i = 0; i < bias.size(); ++i)
            QVERIFY(std::fabs(dense.bias.floats()[i] - bias[i]) <=
                    std::fabs(bias[i]) * 1e-3f + 1e-7f);
        QVERIFY(dense.bias.floats()[0] != bias[0]);  // it really went through 16 bits
    }

    void integerWeightsAreRejected() {
        const std::string path = savedMlp("int.h5");
        editH5(path, [](hid_t file) {
            replaceDataset(file, "/model_weights/dense_5/dense_5/bias:0", H5T_STD_I32LE, {10},
                           std::vector<float>(10, 1.f));
        });
        EXPECT_ERROR(loadModel(path),
                     "layer 'dense_5' (Dense): dataset 'dense_5/bias:0' holds integers of 4 bytes");
    }

    void hugeDeclaredDatasetFailsBeforeAllocating() {
        const std::string path = savedMlp("huge.h5");
        editH5(path, [](hid_t file) {
            const hid_t plist = H5Pcreate(H5P_DATASET_CREATE);
            const hsize_t chunk[2] = {64, 64};
            H5Pset_chunk(plist, 2, chunk);
            H5Pset_deflate(plist, 1);
            // 2^21 x 2^21 floats = 16 TiB declared, nothing written.
            replaceDataset(file, "/model_weights/dense_4/dense_4/kernel:0", H5T_IEEE_F32LE,
                           {1u << 21, 1u << 21}, {}, plist);
            H5Pclose(plist);
        });
        EXPECT_ERROR(loadModel(path),
                     "dataset 'dense_4/kernel:0' (2097152, 2097152) needs 16777216 MiB but only");
    }

    void missingAndMisshapenWeightsAreReported() {
        const std::string missing = savedMlp("missing.h5");
        editH5(missing, [](hid_t file) {
            H5Ldelete(file, "/model_weights/dense_4/dense_4/bias:0", H5P_DEFAULT);
            // weight_names still lists it: the dataset cannot be opened.
        });
        EXPECT_ERROR(loadModel(missing),
                     "layer 'dense_4' (Dense): cannot open dataset 'dense_4/bias:0'");
        const std::string misshapen = savedMlp("misshapen.h5");
        editH5(misshapen, [](hid_t file) {
            replaceDataset(file, "/model_weights/dense_4/dense_4/kernel:0", H5T_IEEE_F32LE,
                           {64, 128}, std::vector<float>(64 * 128, 0.f));
        });
        EXPECT_ERROR(loadModel(misshapen),
                     "layer 'dense_4' (Dense): kernel has shape (64, 128), expected (128, 64)");
    }

    void unsupportedLayerInH5NamesLayerClassAndFile() {
        const std::string path = savedMlp("lstm.h5");
        editH5(path, [](hid_t file) {
            std::string config = test::readTextAttribute(file, "model_config");
            const auto at = config.find("\"class_name\": \"Dense\"");
            const auto atCompact = config.find("\"class_name\":\"Dense\"");
            if (at != std::string::npos)
                config.replace(at, 21, "\"class_name\": \"LSTM\"");
            else
                config.replace(atCompact, 20, "\"class_name\":\"LSTM\"");
            writeVariableStringAttribute(file, "model_config", config);
        });
        EXPECT_ERROR(loadModel(path),
                     path + ": layer 'dense_3' (LSTM) is not supported; supported layers: ");
    }

    void kerasTwoWeightsOnlyFileListsTensors() {
        // save_weights() layout: layer groups at the root, layer_names on the root, no config.
        const std::string path = savedMlp("weights_only.h5");
        editH5(path, [](hid_t file) {
            H5Adelete(file, "model_config");
            for (const char* layer : {"flatten_1", "dense_3", "dense_4", "dense_5"})
                H5Lmove(file, (std::string("/model_weights/") + layer).c_str(), file, layer,
                        H5P_DEFAULT, H5P_DEFAULT);
            H5Ldelete(file, "/model_weights", H5P_DEFAULT);
            const hid_t type = H5Tcopy(H5T_C_S1);
            H5Tset_size(type, 9);
            const hsize_t four = 4;
            const hid_t space = H5Screate_simple(1, &four, nullptr);
            const hid_t attribute =
                H5Acreate2(file, "layer_names", type, space, H5P_DEFAULT, H5P_DEFAULT);
            H5Awrite(attribute, type, "flatten_1dense_3\0\0dense_4\0\0dense_5\0\0");
            H5Aclose(attribute);
            H5Sclose(space);
            H5Tclose(type);
        });
        const Model model = loadModel(path);
        QVERIFY(!model.evaluable);
        QCOMPARE(model.format, std::string("Keras 2.13.1 weights only (.h5)"));
        QCOMPARE(model.tensors.size(), std::size_t(6));
        QCOMPARE(model.tensors[0].name, std::string("dense_3/kernel:0"));
        QCOMPARE(model.tensors[0].tensor.shape(), (Shape{784, 128}));
        QCOMPARE(model.tensors[5].name, std::string("dense_5/bias:0"));
    }
};

QTEST_GUILESS_MAIN(HostileInputLoaderTest)
#include "hostile_input_loader_test.moc"
