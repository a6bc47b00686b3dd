// The reader registry: each fixture finds its reader by content, also under a misleading
// name; the probes read only the bytes they were given; what no reader takes is refused with
// one line that lists every reader.
#include "core/io/reader_registry.h"

#include <QtTest>
#include <filesystem>

#include "core/error.h"
#include "tests/support/test_paths.h"

using namespace cwb;

namespace {

// "llm:NAME" is tests/fixtures/llm/NAME, anything else tests/fixtures/models/NAME.
std::string fixturePath(const std::string& name) {
    return name.rfind("llm:", 0) == 0 ? test::llmFixture(name.substr(4)) : test::fixture(name);
}

// Fixtures renamed with another format's extension, so that only content can decide.
std::string renamedCopy(const std::string& fixture, const std::string& name) {
    const std::string path = test::tempDir() + "/" + name;
    std::filesystem::copy_file(fixturePath(fixture), path,
                               std::filesystem::copy_options::overwrite_existing);
    return path;
}

std::string errorOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

class ReaderRegistryTest : public QObject {
    Q_OBJECT
private slots:
    void cleanupTestCase() { std::filesystem::remove_all(test::tempDir()); }

    void readerChosenByContent_data() {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<QString>("misleadingName");
        QTest::addColumn<QString>("reader");
        QTest::newRow("k2 .h5") << "k2_cnn_bn_evanchien.h5"
                                << "a.safetensors"
                                << "Keras .h5 and .weights.h5";
        QTest::newRow("k3 .weights.h5") << "k3_mlp800_voyager.weights.h5"
                                        << "b.keras"
                                        << "Keras .h5 and .weights.h5";
        QTest::newRow("k3 .keras") << "k3_cnn_umer.keras"
                                   << "c.h5"
                                   << "Keras 3 .keras";
        QTest::newRow("safetensors") << "st_mnist_cnn_bn_torch.safetensors"
                                     << "d.h5"
                                     << ".safetensors";
        QTest::newRow("GGUF") << "llm:kjv-llama-6m.Q4_0.gguf"
                              << "e.safetensors"
                              << "GGUF";
        // A llama2.c checkpoint under another name is known by its header alone.
        QTest::newRow("llama2.c") << "llm:aidreams260K/aidreams260K.bin"
                                  << "f.checkpoint"
                                  << "llama2.c .bin";
    }
    void readerChosenByContent() {
        QFETCH(QString, fixture);
        QFETCH(QString, misleadingName);
        QFETCH(QString, reader);
        for (const std::string& path :
             {fixturePath(fixture.toStdString()),
              renamedCopy(fixture.toStdString(), misleadingName.toStdString())}) {
            const Reader* found = findReader(path);
            QVERIFY(found);
            QCOMPARE(QString::fromStdString(found->name), reader);
            const Loaded loaded = openFile(path);
            QCOMPARE(std::holds_alternative<Model>(loaded), found->givesModel());
            if (found->givesModel()) {
                QCOMPARE(findReader(path, ReaderKind::Model), found);
                QVERIFY(!std::get<Model>(loaded).tensors.empty() ||
                        !std::get<Model>(loaded).layers.empty());
            } else {
                QCOMPARE(findReader(path, ReaderKind::Checkpoint), found);
                QVERIFY(!findReader(path, ReaderKind::Model));
                QVERIFY(!std::get<LlamaCheckpoint>(loaded).weights.blocks.empty());
            }
        }
    }

    // A Hugging Face folder is a checkpoint; one of its shards alone is a network's weights
    // to loadModel and the folder's checkpoint to a search for checkpoints.
    void foldersAndShards() {
        const std::string folder = test::llmFixture("kjv-llama-6m");
        const Reader* asFolder = findReader(folder);
        QVERIFY(asFolder);
        QCOMPARE(asFolder->name, std::string("Hugging Face folder"));
        QVERIFY(!findReader(folder, ReaderKind::Model));
        const std::string shard = folder + "/model-00001-of-00002.safetensors";
        QCOMPARE(findReader(shard, ReaderKind::Model)->name, std::string(".safetensors"));
        QCOMPARE(findReader(shard, ReaderKind::Checkpoint), asFolder);
        // A Keras file named like a shard is no checkpoint: the shard's content decides.
        const std::string keras = renamedCopy("k2_cnn_bn_evanchien.h5", "model.safetensors");
        QVERIFY(!findReader(keras, ReaderKind::Checkpoint));
    }

    void probesLookOnlyAtWhatTheyAreGiven() {
        ProbeInput in;
        in.path = "/nonexistent";
        in.head = std::string("xxGGUF\x03\0\0\0", 10);
        QVERIFY(startsWith("GGUF", 2)(in));
        QVERIFY(!startsWith("GGUF")(in));
        QVERIFY(!startsWith("GGUF", 8)(in));  // past the end of a short head
        in.isFolder = true;
        QVERIFY(!startsWith("GGUF", 2)(in));  // a folder has no bytes
        // No probe throws, not even for a path that is not there.
        in.isFolder = false;
        in.head = "garbage, and no file behind it";
        for (const Reader& r : readers()) QVERIFY2(!r.probe(in), r.name.c_str());
    }

    void unrecognisedInputsSayWhy() {
        const std::string dir = test::tempDir();
        const std::string missing = dir + "/missing.h5";
        QCOMPARE(QString::fromStdString(errorOf([&] { openFile(missing); })),
                 QString::fromStdString(missing + ": file not found"));
        QVERIFY(!findReader(dir, ReaderKind::Model));  // no network reader takes a folder
        const std::string text = dir + "/notes.txt";
        test::writeBytes(text, "hello");
        QVERIFY(!findReader(text));
        const std::string message = errorOf([&] { openFile(text); });
        QVERIFY2(message.rfind(text + ": not a recognised file; supported: ", 0) == 0,
                 message.c_str());
        for (const Reader& r : readers())
            QVERIFY2(message.find(r.name) != std::string::npos, r.name.c_str());
        QCOMPARE(readerNames(ReaderKind::Model),
                 std::string("Keras .h5 and .weights.h5, Keras 3 .keras, .safetensors"));
    }
};

QTEST_APPLESS_MAIN(ReaderRegistryTest)
#include "reader_registry_test.moc"
