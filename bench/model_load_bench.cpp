// Load time of every fixture through loadModel (median of N runs), and the cost of the
// child process alone (fork + wait with an empty body), so the child's share of an
// HDF5 load can be read off (fork, the pipe back and the encoding). Anchor: reading the
// 3 MB k2 fixture's bytes in the same run.
//
// usage: model_load_bench [FIXTURES_DIR] [RUNS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "bench/support/bench_util.h"
#include "core/error.h"
#include "core/io/model_loader.h"
#include "core/util/child_process.h"

namespace {

using cwb::bench::medianMilliseconds;

// The anchor's read: the whole file into memory, as plainly as C++ does it.
std::size_t readWholeFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    return bytes.size();
}

}  // namespace

int main(int argc, char** argv) {
    const std::string dir = argc > 1 ? argv[1] : "tests/fixtures/models";
    const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 21;
    std::printf("%-36s %12s\n", "file", "median ms");
    for (const char* name :
         {"k2_cnn_bn_evanchien.h5", "k2_mlp_dropout_percy.h5", "k3legacy_mlp_ntu113.h5",
          "k3_cnn_umer.keras", "k3_mlp800_voyager.weights.h5", "st_mnist_cnn_bn_torch.safetensors",
          "st_u8_data_fluent.safetensors"}) {
        const std::string path = dir + "/" + name;
        try {
            const double ms = medianMilliseconds(runs, [&] { (void)cwb::loadModel(path); });
            std::printf("%-36s %12.2f\n", name, ms);
        } catch (const cwb::Error& e) {
            std::printf("%-36s failed: %s\n", name, e.what());
        }
    }
    const double fork = medianMilliseconds(runs, [] {
        (void)cwb::runInChildProcess([] { return std::string(); }, "bench",
                                     std::chrono::seconds(10));
    });
    std::printf("%-36s %12.2f\n", "(empty child process: fork + wait)", fork);
    // Anchor: the same machine reading the largest HDF5 fixture's bytes from the page cache.
    const double read =
        medianMilliseconds(runs, [&] { (void)readWholeFile(dir + "/k2_cnn_bn_evanchien.h5"); });
    std::printf("%-36s %12.2f\n", "(anchor: read k2_cnn file, 3 MB)", read);
    return 0;
}
