// Paths for tests, fixed at configure time by tests/CMakeLists.txt.
#include "tests/support/test_paths.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace cwb::test {

std::string fixturesDir() { return std::string(CWB_FIXTURES_DIR) + "/models"; }
std::string fixture(const std::string& name) { return fixturesDir() + "/" + name; }
std::string llmFixture(const std::string& name) {
    return std::string(CWB_FIXTURES_DIR) + "/llm/" + name;
}
std::string datasetDir() { return CWB_DATASET_DIR; }
std::string binary(const std::string& name) {
    for (const char* sub : {"/app/", "/"}) {
        const std::string path = std::string(CWB_BINARY_DIR) + sub + name;
        if (std::filesystem::exists(path)) return path;
    }
    return std::string(CWB_BINARY_DIR) + "/app/" + name;
}

std::string tempDir() {
    static const std::string dir = [] {
        auto path =
            std::filesystem::temp_directory_path() / ("cwb-test-" + std::to_string(getpid()));
        std::filesystem::create_directories(path);
        return path.string();
    }();
    return dir;
}

std::string readBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    return {std::istreambuf_iterator<char>(in), {}};
}

void writeBytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace cwb::test
