// Hostile and broken inputs, one row per kind: each file is made here (small, in the temp
// folder), opened through the public entry point, and must fail with one line that names
// the file and matches the row's message pattern. README.md's "## Bad inputs" table must
// list the same rows (readmeTableMatchesTheRows prints the table to paste when it does not).
#include <QtTest>

#include <fstream>
#include <functional>
#include <regex>
#include <sstream>

#include "core/error.h"
#include "core/io/idx_dataset.h"
#include "tests/support/bad_files.h"
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

const std::vector<Row>& rows() {
    static const std::vector<Row> all{
        {"IDX file whose dimensions multiply past 4 G", "IDX dimensions overflow",
         [](const std::string& dir) {
             return bad::writeBytes(dir + "/overflow.idx",
                                    bad::idxHeader({0xffffffffu, 0xffffffffu, 0xffffffffu}));
         }, openIdx},
        {"IDX file whose data does not fit its shape", "IDX holds {N} bytes of data, its header says {N}",
         [](const std::string& dir) {
             std::string bytes = bad::idxHeader({10, 28, 28});
             bytes += std::string(100, '\x7f');
             return bad::writeBytes(dir + "/short.idx", bytes);
         }, openIdx},
        {"IDX file cut inside its header", "IDX header is truncated",
         [](const std::string& dir) { return bad::writeBytes(dir + "/cut.idx", bad::idxHeader({5, 5, 5}).substr(0, 9)); },
         openIdx},
        {"IDX file with garbage instead of a header", "not an IDX file (bad magic number)",
         [](const std::string& dir) { return bad::writeBytes(dir + "/garbage.idx", bad::randomBytes(64, 1)); },
         openIdx},
        {"gzipped IDX file with corrupt compressed data", "corrupt gzip data",
         [](const std::string& dir) { return bad::writeBytes(dir + "/corrupt.idx.gz", bad::corruptGzip(4096)); },
         openIdx},
    };
    return all;
}

// A pattern from a row as a regex: {N} is a number, {*} any text, the rest literal.
std::regex patternRegex(const std::string& pattern) {
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern.compare(i, 3, "{N}") == 0) {
            out += "[0-9][0-9.,]*";
            i += 2;
        } else if (pattern.compare(i, 3, "{*}") == 0) {
            out += ".*";
            i += 2;
        } else {
            if (std::string("\\^$.|?*+()[]{}").find(pattern[i]) != std::string::npos) out += '\\';
            out += pattern[i];
        }
    }
    return std::regex(out);
}

// The rows of README.md's "## Bad inputs" table as (kind, pattern) pairs.
std::vector<std::pair<std::string, std::string>> readmeRows() {
    std::ifstream in(std::string(CWB_SOURCE_DIR) + "/README.md");
    std::vector<std::pair<std::string, std::string>> rows;
    std::string line;
    bool inSection = false;
    while (std::getline(in, line)) {
        if (line.rfind("## ", 0) == 0) inSection = line == "## Bad inputs";
        if (!inSection || line.rfind("| ", 0) != 0) continue;
        // | kind | `pattern` |
        const auto tick = line.find(" | `");
        const auto end = line.rfind("` |");
        if (tick == std::string::npos || end == std::string::npos || end <= tick) continue;
        rows.emplace_back(line.substr(2, tick - 2), line.substr(tick + 4, end - tick - 4));
    }
    return rows;
}

}  // namespace

class BadInputsTest : public QObject {
    Q_OBJECT
private slots:
    void failsWithOneClearLine_data() {
        QTest::addColumn<int>("row");
        for (std::size_t i = 0; i < rows().size(); ++i) QTest::newRow(rows()[i].kind.c_str()) << int(i);
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
            QVERIFY2(message.find(path) != std::string::npos, ("does not name the file: " + message).c_str());
            QVERIFY2(std::regex_search(message, patternRegex(bad.pattern)),
                     ("'" + message + "' does not match '" + bad.pattern + "'").c_str());
        }
    }

    // README.md must list exactly these rows, in this order, with these patterns.
    void readmeTableMatchesTheRows() {
        const auto readme = readmeRows();
        std::ostringstream expected;
        for (const auto& r : rows()) expected << "| " << r.kind << " | `" << r.pattern << "` |\n";
        const std::string hint = "README.md's \"## Bad inputs\" table must read:\n" + expected.str();
        QVERIFY2(readme.size() == rows().size(), hint.c_str());
        for (std::size_t i = 0; i < rows().size(); ++i) {
            QVERIFY2(readme[i].first == rows()[i].kind, hint.c_str());
            QVERIFY2(readme[i].second == rows()[i].pattern, hint.c_str());
        }
    }
};

QTEST_APPLESS_MAIN(BadInputsTest)
#include "bad_inputs_test.moc"
