// No data loss: an export killed in the middle of writing leaves the previous file
// byte-identical, a failed write leaves nothing behind, an export never overwrites the
// model's own source file, and leftovers of killed writers are hidden and later removed.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QtTest>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "core/error.h"
#include "core/io/keras_h5_writer.h"
#include "core/io/model_loader.h"
#include "core/util/atomic_file.h"
#include "tests/support/test_paths.h"

using namespace cwb;
namespace fs = std::filesystem;

namespace {

std::string readAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// An evaluable MLP whose export is `megabytes` of float32 zeros, so writing it takes a while.
Model bigModel(int megabytes) {
    Model model;
    model.evaluable = true;
    model.format = "test";
    model.inputShape = {1024};
    const std::int64_t units = std::int64_t(megabytes) * (1 << 20) / 4 / 1024;
    Layer dense;
    dense.name = "big";
    dense.className = "Dense";
    dense.kind = LayerKind::Dense;
    dense.units = static_cast<int>(units);
    dense.kernel = Tensor::zeros({1024, units});
    dense.bias = Tensor::zeros({units});
    model.layers.push_back(std::move(dense));
    model.inferShapes();
    return model;
}

// Names in `dir` that a user would see (not hidden).
std::vector<std::string> visibleFiles(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().filename().string()[0] != '.')
            names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<fs::path> tempFilesFor(const std::string& dir, const std::string& name) {
    std::vector<fs::path> temps;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().filename().string().rfind("." + name + ".tmp-", 0) == 0)
            temps.push_back(entry.path());
    return temps;
}

std::string freshDir(const std::string& name) {
    const std::string dir = test::tempDir() + "/" + name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

}  // namespace

class AtomicExportTest : public QObject {
    Q_OBJECT
private slots:
    void cleanupTestCase() { fs::remove_all(test::tempDir()); }

    void exportKilledMidWriteLeavesThePreviousFileIntact() {
        const std::string dir = freshDir("killed");
        const std::string destination = dir + "/model.h5";
        fs::copy_file(test::fixture("k3legacy_mlp_ntu113.h5"), destination);
        const std::string before = readAll(destination);
        const Model big = bigModel(256);

        const pid_t child = fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            try {
                saveKerasH5(big, destination);
            } catch (...) {
                _exit(3);
            }
            _exit(0);
        }
        // Kill the writer once its temporary file holds some megabytes of weights.
        bool killed = false;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (!killed && std::chrono::steady_clock::now() < deadline) {
            for (const fs::path& temp : tempFilesFor(dir, "model.h5")) {
                std::error_code ec;
                if (fs::file_size(temp, ec) >= (std::uintmax_t(8) << 20) && !ec) {
                    kill(child, SIGKILL);
                    killed = true;
                }
            }
            if (!killed) std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        int status = 0;
        waitpid(child, &status, 0);
        QVERIFY2(killed, "the export never got 8 MiB into its temporary file");
        QVERIFY2(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                 "the export finished before it could be killed; make the test model larger");

        // The destination is untouched, and the half-written file is not taken for it.
        QVERIFY(readAll(destination) == before);
        QCOMPARE(visibleFiles(dir), std::vector<std::string>{"model.h5"});
        QCOMPARE(tempFilesFor(dir, "model.h5").size(), std::size_t(1));
        const Model reloaded = loadModel(destination);
        QCOMPARE(reloaded.layers.size(),
                 loadModel(test::fixture("k3legacy_mlp_ntu113.h5")).layers.size());

        // The next successful export replaces the file and clears the dead writer's leftover.
        Model small = reloaded;
        small.sourcePath.clear();
        saveKerasH5(small, destination);
        QVERIFY(tempFilesFor(dir, "model.h5").empty());
        QVERIFY(readAll(destination) != before);
        QCOMPARE(loadModel(destination).layers.size(), reloaded.layers.size());
    }

    void failedWriteLeavesThePreviousFileAndNoTemporary() {
        const std::string dir = freshDir("failed");
        const std::string destination = dir + "/session.json";
        writeBytesAtomically(destination, "{\"version\": 1}");
        try {
            writeFileAtomically(destination, [](const std::string& temp) {
                std::ofstream(temp) << "{\"version\": 2, \"half";
                throw Error("disk full (simulated)");
            });
            QFAIL("the failure did not propagate");
        } catch (const Error& e) {
            QCOMPARE(std::string(e.what()), std::string("disk full (simulated)"));
        }
        QCOMPARE(readAll(destination), std::string("{\"version\": 1}"));
        QVERIFY(tempFilesFor(dir, "session.json").empty());
    }

    void bytesReplaceTheFileAndKeepItsPermissions() {
        const std::string dir = freshDir("bytes");
        const std::string destination = dir + "/session.json";
        writeBytesAtomically(destination, "first");
        fs::permissions(destination,
                        fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
        writeBytesAtomically(destination, "second, longer");
        QCOMPARE(readAll(destination), std::string("second, longer"));
        QCOMPARE(fs::status(destination).permissions() & fs::perms::all,
                 fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
        QCOMPARE(visibleFiles(dir), std::vector<std::string>{"session.json"});
        QVERIFY(tempFilesFor(dir, "session.json").empty());
    }

    void exportNeverOverwritesItsSource_data() {
        QTest::addColumn<QString>("alias");
        QTest::newRow("same path") << "same";
        QTest::newRow("path with ..") << "dots";
        QTest::newRow("symbolic link") << "symlink";
        QTest::newRow("hard link") << "hardlink";
    }
    void exportNeverOverwritesItsSource() {
        QFETCH(QString, alias);
        const std::string dir = freshDir("source-" + alias.toStdString());
        const std::string source = dir + "/model.h5";
        fs::copy_file(test::fixture("k3legacy_mlp_ntu113.h5"), source);
        const std::string before = readAll(source);
        std::string target = source;
        if (alias == "dots") {
            fs::create_directories(dir + "/sub");
            target = dir + "/sub/../model.h5";
        } else if (alias == "symlink") {
            target = dir + "/link.h5";
            fs::create_symlink(source, target);
        } else if (alias == "hardlink") {
            target = dir + "/hard.h5";
            fs::create_hard_link(source, target);
        }
        const Model model = loadModel(source);
        try {
            saveKerasH5(model, target);
            QFAIL("overwrote the source");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("refusing to overwrite the model's source file") !=
                         std::string::npos,
                     e.what());
        }
        QVERIFY(readAll(source) == before);
    }
};

QTEST_APPLESS_MAIN(AtomicExportTest)
#include "atomic_export_test.moc"
