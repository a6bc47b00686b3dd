// Hostile and broken inputs, one row per kind: each file is made here (small, in the temp
// folder), opened through the public entry point, and must fail with one line that names
// the file and matches the row's message pattern. README.md's "## Bad inputs" table must
// list the same rows (readmeTableMatchesTheRows prints the table to paste when it does not).
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <regex>
#include <sstream>

#include "core/error.h"
#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"
#include "core/util/memory.h"
#include "tests/support/bad_files.h"
#include "tests/support/readme_table.h"
#include "tests/support/test_paths.h"

using namespace cwb;
namespace bad = cwb::test::bad;

namespace {

struct Row {
    std::string kind;     // README's first column
    std::string pattern;  // README's second column: {N} a number, {*} any text
    std::function<std::string(const std::string& dir)> make;  // writes the file, returns its path
    std::function<void(const std::string& path)> open;
};

void openIdx(const std::string& path) { readIdx(path); }
// Caps the memory budget while the reader runs, so that "more than the memory available"
// is reached with small test data.
void openIdxWith64MiB(const std::string& path) {
    setMemoryCap(std::uint64_t(64) << 20);
    try {
        readIdx(path);
    } catch (...) {
        setMemoryCap(0);
        throw;
    }
    setMemoryCap(0);
}
void openModel(const std::string& path) { loadModel(path); }

// Real models, copied into the temp folder before being spoiled.
constexpr const char* kKerasH5 = "k3legacy_mlp_ntu113.h5";
constexpr const char* kKernel = "/model_weights/dense_3/sequential_1/dense_3/kernel";  // (784, 128)
constexpr const char* kBias = "/model_weights/dense_5/sequential_1/dense_5/bias";      // (10,)
constexpr const char* kKeras = "k3_cnn_umer.keras";

std::string spoiledCopy(const std::string& dir, const std::string& name) {
    return bad::copyFile(test::fixture(kKerasH5), dir + "/" + name);
}

std::string sourceFile(const std::string& relative) {
    return bad::readPrefix(std::string(CWB_SOURCE_DIR) + "/" + relative, std::string::npos);
}

const std::vector<Row>& rows() {
    static const std::vector<Row> all{
        {"IDX file whose dimensions multiply past 4 G", "IDX dimensions overflow",
         [](const std::string& dir) {
             return bad::writeBytes(dir + "/overflow.idx",
                                    bad::idxHeader({0xffffffffu, 0xffffffffu, 0xffffffffu}));
         },
         openIdx},
        {"IDX file whose data does not fit its shape",
         "IDX holds {N} bytes of data, its header says {N}",
         [](const std::string& dir) {
             std::string bytes = bad::idxHeader({10, 28, 28});
             bytes += std::string(100, '\x7f');
             return bad::writeBytes(dir + "/short.idx", bytes);
         },
         openIdx},
        {"IDX file cut inside its header", "IDX header is truncated",
         [](const std::string& dir) {
             return bad::writeBytes(dir + "/cut.idx", bad::idxHeader({5, 5, 5}).substr(0, 9));
         },
         openIdx},
        {"IDX file with garbage instead of a header", "not an IDX file (bad magic number)",
         [](const std::string& dir) {
             return bad::writeBytes(dir + "/garbage.idx", bad::randomBytes(64, 1));
         },
         openIdx},
        {"gzipped IDX file with corrupt compressed data", "corrupt gzip data",
         [](const std::string& dir) {
             return bad::writeBytes(dir + "/corrupt.idx.gz", bad::corruptGzip(4096));
         },
         openIdx},
        {"gzipped IDX file inflating past the memory available (gzip bomb)",
         "decompressing needs {N} MiB but only {N} MiB of memory are available",
         [](const std::string& dir) {
             std::string plain = bad::idxHeader({100000, 28, 28});
             plain.resize(plain.size() +
                          100000 * 28 * 28);  // 75 MiB of zeros: gzip shrinks it 1000-fold
             return bad::writeBytes(dir + "/bomb.idx.gz", bad::gzip(plain));
         },
         openIdxWith64MiB},

        {"model file that does not exist", "file not found",
         [](const std::string& dir) { return dir + "/missing.h5"; }, openModel},
        {"folder given as a model", "is not a regular file; give the path of a model file",
         [](const std::string& dir) {
             std::filesystem::create_directories(dir + "/folder.h5");
             return dir + "/folder.h5";
         },
         openModel},
        {"empty file", "not a recognised model file",
         [](const std::string& dir) { return bad::writeBytes(dir + "/empty.h5", ""); }, openModel},
        {"random bytes", "not a recognised model file",
         [](const std::string& dir) {
             return bad::writeBytes(dir + "/random.keras", bad::randomBytes(4096, 5));
         },
         openModel},

        {"safetensors header length past the end of the file",
         "safetensors header length {N} exceeds the file size {N}; the file is truncated or "
         "corrupt",
         [](const std::string& dir) {
             return bad::writeBytes(dir + "/long_header.safetensors",
                                    bad::safetensors("{}", "", 1LL << 62));
         },
         openModel},
        {"safetensors header nested 100 000 deep", "JSON is nested more than {N} levels deep",
         [](const std::string& dir) {
             return bad::writeBytes(dir + "/nested.safetensors",
                                    bad::safetensors(bad::nestedJson(100000), ""));
         },
         openModel},
        {"safetensors tensor declaring 1 TiB in a tiny file",
         "data_offsets [{N}, {N}] lie outside the {N} bytes of data; the file is truncated or "
         "corrupt",
         [](const std::string& dir) {
             const std::string header =
                 R"({"w":{"dtype":"F32","shape":[262144,1048576],"data_offsets":[0,1099511627776]}})";
             return bad::writeBytes(dir + "/terabyte.safetensors",
                                    bad::safetensors(header, std::string(64, '\0')));
         },
         openModel},
        {"safetensors shape that does not match its bytes",
         "needs {N} bytes but data_offsets span {N}",
         [](const std::string& dir) {
             const std::string header =
                 R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}})";
             return bad::writeBytes(dir + "/mismatch.safetensors",
                                    bad::safetensors(header, std::string(16, '\0')));
         },
         openModel},
        {"safetensors shape whose size overflows", "shape {*} overflows",
         [](const std::string& dir) {
             const std::string header =
                 R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,0]}})";
             return bad::writeBytes(dir + "/overflow.safetensors", bad::safetensors(header, ""));
         },
         openModel},
        // A file larger than memory is no bad input: it is mapped, not read (see
        // mapped_storage_test). A header that large is, whatever the memory.
        {"safetensors header declaring 200 MB (sparse file)",
         "safetensors header of {N} bytes is larger than the {N} MB limit",
         [](const std::string& dir) {
             const std::uint64_t declared = 200'000'000;
             return bad::sparseFile(dir + "/sparse.safetensors",
                                    bad::safetensors("{", "", static_cast<long long>(declared)),
                                    8 + declared + 64);
         },
         openModel},

        {"HDF5 file that is not a Keras model",
         "HDF5 file has no Keras model_config or layers group; it is not a Keras model",
         [](const std::string& dir) { return bad::plainHdf5(dir + "/plain.h5"); }, openModel},
        {"Keras .h5 cut in half", "cannot open as HDF5; the file is truncated or corrupt",
         [](const std::string& dir) {
             const std::string whole = bad::readPrefix(test::fixture(kKerasH5), std::string::npos);
             return bad::writeBytes(dir + "/half.h5", whole.substr(0, whole.size() / 2));
         },
         openModel},
        {"Keras .h5 whose model_config is not JSON", "model_config: malformed JSON ({*})",
         [](const std::string& dir) {
             const std::string path = spoiledCopy(dir, "bad_json.h5");
             bad::setRootAttribute(path, "model_config",
                                   R"({"class_name": "Sequential", "config": [)");
             return path;
         },
         openModel},
        {"Keras .h5 whose model_config is nested 100 000 deep",
         "model_config: JSON is nested more than {N} levels deep",
         [](const std::string& dir) {
             const std::string path = spoiledCopy(dir, "nested.h5");
             bad::setRootAttribute(path, "model_config", bad::nestedJson(100000));
             return path;
         },
         openModel},
        {"Keras .h5 with a NaN weight",
         "layer 'dense_3' (Dense) weight 'kernel' contains NaN at element {N}",
         [](const std::string& dir) {
             const std::string path = spoiledCopy(dir, "nan.h5");
             bad::pokeDataset(path, kKernel, 1234, std::numeric_limits<float>::quiet_NaN());
             return path;
         },
         openModel},
        {"Keras .h5 with an Inf weight",
         "layer 'dense_5' (Dense) weight 'bias' contains Inf at element {N}",
         [](const std::string& dir) {
             const std::string path = spoiledCopy(dir, "inf.h5");
             bad::pokeDataset(path, kBias, 3, -std::numeric_limits<float>::infinity());
             return path;
         },
         openModel},
        {"Keras .h5 weight whose shape does not match the config",
         "layer 'dense_3' (Dense): kernel has shape (784, 100), expected (784, 128)",
         [](const std::string& dir) {
             const std::string path = spoiledCopy(dir, "reshaped.h5");
             bad::replaceDataset(path, kKernel, {784, 100}, {0.01f});
             return path;
         },
         openModel},
        {"Keras .h5 declaring a 4 TiB weight",
         "needs {N} MiB but only {N} MiB of memory are available",
         [](const std::string& dir) {
             const std::string path = spoiledCopy(dir, "huge.h5");
             bad::replaceDataset(path, kKernel, {1u << 20, 1u << 20}, {});
             return path;
         },
         openModel},

        {".keras zip bomb (config.json inflating to 65 MiB)",
         "config.json declares {N} MiB uncompressed, more than the {N} MiB allowed; refusing it "
         "(corrupt file or zip bomb)",
         [](const std::string& dir) {
             return bad::zipFile(dir + "/bomb.keras",
                                 {{"config.json", std::string(std::size_t(65) << 20, ' ')},
                                  {"metadata.json", R"({"keras_version": "3.8.0"})"}});
         },
         openModel},
        {".keras whose weights entry claims 3 GiB",
         "model.weights.h5 declares {N} MiB uncompressed, more than the {N} MiB allowed; refusing "
         "it (corrupt file or zip bomb)",
         [](const std::string& dir) {
             const std::string path = bad::zipFile(
                 dir + "/liar.keras",
                 {{"config.json", sourceFile("fuzz/seeds/keras_config/k3_cnn_umer.config.json")},
                  {"model.weights.h5", std::string(4096, 'x')}});
             bad::lieAboutZipEntrySize(path, "model.weights.h5", 3u << 30);
             return path;
         },
         openModel},
        {".keras declaring a 4 TiB weight",
         "needs {N} MiB but only {N} MiB of memory are available",
         [](const std::string& dir) {
             const std::string keras = test::fixture(kKeras);
             const std::string inner =
                 bad::writeBytes(dir + "/inner.h5", bad::zipEntry(keras, "model.weights.h5"));
             bad::replaceDataset(inner, "/layers/dense/vars/0", {1u << 20, 1u << 20}, {});
             return bad::zipFile(dir + "/huge.keras",
                                 {{"metadata.json", bad::zipEntry(keras, "metadata.json")},
                                  {"config.json", bad::zipEntry(keras, "config.json")},
                                  {"model.weights.h5", bad::readPrefix(inner, std::string::npos)}});
         },
         openModel},
        {".keras cut in half",
         "cannot open as a zip archive ({*}); the file is truncated or corrupt",
         [](const std::string& dir) {
             const std::string whole = bad::readPrefix(test::fixture(kKeras), std::string::npos);
             return bad::writeBytes(dir + "/half.keras", whole.substr(0, whole.size() / 2));
         },
         openModel},
        {".keras wrapping a TensorFlow SavedModel (TFSMLayer)",
         "layer 'tfsm_layer' (TFSMLayer) is not supported",
         [](const std::string&) { return test::fixture("k3_tfsmlayer_NEGATIVE.keras"); },
         openModel},
    };
    return all;
}

}  // namespace

class BadInputsTest : public QObject {
    Q_OBJECT
private slots:
    // The files are small but one is a sparse file larger than memory: remove them all.
    void cleanupTestCase() { std::filesystem::remove_all(test::tempDir()); }

    void failsWithOneClearLine_data() {
        QTest::addColumn<int>("row");
        for (std::size_t i = 0; i < rows().size(); ++i)
            QTest::newRow(rows()[i].kind.c_str()) << int(i);
    }
    void failsWithOneClearLine() {
        QFETCH(int, row);
        const Row& bad = rows()[static_cast<std::size_t>(row)];
        const std::string path = bad.make(test::tempDir());
        try {
            bad.open(path);
            QFAIL(("accepted: " + path).c_str());
        } catch (const Error& e) {
            const std::string message = e.what();
            QVERIFY2(message.find('\n') == std::string::npos, message.c_str());
            QVERIFY2(message.find(path) != std::string::npos,
                     ("does not name the file: " + message).c_str());
            QVERIFY2(std::regex_search(message, test::patternRegex(bad.pattern)),
                     ("'" + message + "' does not match '" + bad.pattern + "'").c_str());
        }
    }

    // README.md must list exactly these rows, in this order, with these patterns. When it
    // does not, the table it should hold is written to bad_inputs_table.md here.
    void readmeTableMatchesTheRows() {
        std::ostringstream expected;
        for (const auto& r : rows()) expected << "| " << r.kind << " | `" << r.pattern << "` |\n";
        std::vector<std::pair<std::string, std::string>> wanted;
        for (const auto& r : rows()) wanted.emplace_back(r.kind, r.pattern);
        if (test::readmeTableRows(std::string(CWB_SOURCE_DIR) + "/README.md", "## Bad inputs") !=
            wanted) {
            const auto file = std::filesystem::current_path() / "bad_inputs_table.md";
            std::ofstream(file) << expected.str();
            QFAIL(("README.md's \"## Bad inputs\" table differs from the test rows; the rows it "
                   "should have are in " +
                   file.string())
                      .c_str());
        }
    }
};

QTEST_APPLESS_MAIN(BadInputsTest)
#include "bad_inputs_test.moc"
