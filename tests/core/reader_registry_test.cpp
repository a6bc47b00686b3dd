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

// Fixtures renamed with another format's extension, so that only content can decide.
std::string renamedCopy(const std::string& fixture, const std::string& name) {
    const std::string path = test::tempDir() + "/" + name;
    std::filesystem::copy_file(test::fixture(fixture), path,
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
    }
    void readerChosenByContent() {
        QFETCH(QString, fixture);
        QFETCH(QString, misleadingName);
        QFETCH(QString, reader);
        for (const std::string& path :
             {test::fixture(fixture.toStdString()),
              renamedCopy(fixture.toStdString(), misleadingName.toStdString())}) {
            const Reader* found = findReader(path);
            QVERIFY(found);
            QCOMPARE(QString::fromStdString(found->name), reader);
            QVERIFY(found->givesModel());
            const Loaded loaded = openFile(path);
            QVERIFY(std::holds_alternative<Model>(loaded));
            QVERIFY(!std::get<Model>(loaded).tensors.empty() ||
                    !std::get<Model>(loaded).layers.empty());
        }
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
        QVERIFY(!folderHolding("config.json")(in));

        const std::string folder = test::tempDir() + "/hf";
        std::filesystem::create_directories(folder);
        in.path = folder;
        QVERIFY(!folderHolding("config.json")(in));
        test::writeBytes(folder + "/config.json", "{}");
        QVERIFY(folderHolding("config.json")(in));
        in.isFolder = false;  // a file of that name is no folder
        QVERIFY(!folderHolding("config.json")(in));
    }

    void unrecognisedInputsSayWhy() {
        const std::string dir = test::tempDir();
        const std::string missing = dir + "/missing.h5";
        QCOMPARE(QString::fromStdString(errorOf([&] { openFile(missing); })),
                 QString::fromStdString(missing + ": file not found"));
        QVERIFY(!findReader(dir));  // a folder no reader takes
        QVERIFY(errorOf([&] { openFile(dir); }).find("is not a regular file") != std::string::npos);
        const std::string text = dir + "/notes.txt";
        test::writeBytes(text, "hello");
        const std::string message = errorOf([&] { openFile(text); });
        QVERIFY2(message.rfind(text + ": not a recognised model file; supported: ", 0) == 0,
                 message.c_str());
        for (const Reader& r : readers())
            QVERIFY2(message.find(r.name) != std::string::npos, r.name.c_str());
    }
};

QTEST_APPLESS_MAIN(ReaderRegistryTest)
#include "reader_registry_test.moc"
