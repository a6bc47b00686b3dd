// Every input a fuzzer ever crashed on (fuzz/regressions/<entry>/*), and every seed
// (fuzz/seeds/<entry>/*), fed to the same entry function the fuzzer drives, in the normal
// build: each must load or fail with a cwb::Error, never crash or throw anything else.
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "fuzz/entries.h"

namespace fs = std::filesystem;

class FuzzRegressionsTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { cwb::fuzz::prepare(); }

    void everyFolderNamesAnEntry() {
        for (const char* kind : {"regressions", "seeds"}) {
            const fs::path root = fs::path(CWB_FUZZ_DIR) / kind;
            if (!fs::exists(root)) continue;
            for (const auto& folder : fs::directory_iterator(root)) {
                const std::string name = folder.path().filename().string();
                QVERIFY2(folder.is_directory(),
                         (folder.path().string() + " is not a folder").c_str());
                try {
                    cwb::fuzz::findEntry(name);
                } catch (const std::invalid_argument&) {
                    QFAIL((folder.path().string() + " names no fuzz entry in fuzz/entries.cpp")
                              .c_str());
                }
            }
        }
    }

    void replaysEverySavedInput_data() {
        QTest::addColumn<QString>("entry");
        QTest::addColumn<QString>("path");
        int rows = 0;
        for (const char* kind : {"regressions", "seeds"}) {
            for (const auto& entry : cwb::fuzz::entries()) {
                const fs::path folder = fs::path(CWB_FUZZ_DIR) / kind / entry.name;
                if (!fs::exists(folder)) continue;
                for (const auto& file : fs::directory_iterator(folder)) {
                    if (!file.is_regular_file()) continue;
                    const std::string tag =
                        entry.name + "/" + kind + "/" + file.path().filename().string();
                    QTest::newRow(tag.c_str()) << QString::fromStdString(entry.name)
                                               << QString::fromStdString(file.path().string());
                    ++rows;
                }
            }
        }
        if (rows == 0) QTest::newRow("none") << QString() << QString();
    }
    void replaysEverySavedInput() {
        QFETCH(QString, entry);
        QFETCH(QString, path);
        if (entry.isEmpty()) QSKIP("no saved inputs");
        std::ifstream in(path.toStdString(), std::ios::binary);
        const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
        try {
            cwb::fuzz::findEntry(entry.toStdString())(bytes.data(), bytes.size());
        } catch (const cwb::Error&) {
            // rejected cleanly
        } catch (const std::exception& e) {
            QFAIL(qPrintable(QString("threw a non-cwb exception: ") + e.what()));
        }
    }
};

QTEST_APPLESS_MAIN(FuzzRegressionsTest)
#include "fuzz_regressions_test.moc"
