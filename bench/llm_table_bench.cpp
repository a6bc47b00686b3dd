// The whole-model table (core's measureSchemes, what the window's table runs) on a large
// checkpoint against the time to read the checkpoint's bytes from the page cache, measured
// in the same run: an anchor read before and after every column, each column timed against
// the mean of its two anchors. Also each format's kernel alone on one row held in the cache
// (ns per value, one thread, the vector kernel and the reference), which separates the
// arithmetic from the reading. Writes bench/results/llm_table.md.
//
//     llm_table_bench [CHECKPOINT] [--threads N] [--formats Q8_0,Q4_K,...] [--out FILE]
//                     [--kernels-only] [--gigabytes G] [--no-alpha-rho] [--no-defaults]
//                     [--device cpu|cuda|cuda:N]
// --device: the backend that runs measureSchemes' row pass (Backend::measureSchemeRows; cpu
// by default; a GPU uploads each matrix's stored rows once), as the window's Device box.
// --gigabytes G: only the first matrices, up to G GB (where the page cache cannot hold the
// whole checkpoint, the anchor would read the disk).
// CHECKPOINT defaults to /work/scratch/llama7b (`cwb synth --shape llama7b`); threads 0
// (default) = every core, as the window's table. Columns: each format alone, the
// workbench's alpha 0.01 and rho 0.01 alone, the 32-value formats among --formats together
// (their shared pass), then the window's seven default formats together.
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/support/bench_util.h"
#include "core/backend/backend.h"
#include "core/io/llama_checkpoint.h"
#include "core/llm/linear.h"
#include "core/llm/llama_tensor_roles.h"
#include "core/llm/llm_scheme_table.h"
#include "core/quant/block_formats.h"
#include "core/quant/quant_rows.h"
#include "core/util/mapped_file.h"
#include "core/util/parallel.h"

using namespace cwb;
using namespace cwb::bench;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// This process's CPU time (user and system, every thread).
double processSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// This thread's CPU time: kernel figures that other processes on the machine do not inflate.
double threadSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// CPU ns per value of fn() over `values` values, repeated for 0.3 s of CPU time. The clock
// is read once per batch of calls doubling in size: reading a thread's CPU time is a system
// call (in a VM, one that cost more than a 2048-value row's kernel).
template <typename Fn>
double nsPerValue(std::int64_t values, Fn fn) {
    long long reps = 0;
    const double start = threadSeconds();
    double now = start;
    for (long long batch = 1; (now = threadSeconds()) - start < 0.3; batch *= 2)
        for (long long b = 0; b < batch; ++b, ++reps) fn();
    return (now - start) * 1e9 / double(reps * values);
}

// VmHWM and VmRSS in MiB.
std::string memory() {
    std::ifstream f("/proc/self/status");
    std::string line, out;
    while (std::getline(f, line))
        for (const char* key : {"VmHWM:", "VmRSS:", "RssFile:"})
            if (line.rfind(key, 0) == 0) {
                std::istringstream s(line.substr(std::string(key).size()));
                long kb = 0;
                s >> kb;
                out += (out.empty() ? "" : ", ") +
                       std::string(key).substr(0, std::string(key).size() - 1) + " " +
                       std::to_string(kb / 1024) + " MiB";
            }
    return out;
}

// A matrix's bytes in its file.
struct Extent {
    std::string path;
    std::uint64_t offset = 0, bytes = 0;
};

// Seconds to read the matrices' bytes with pread() in 16 MiB pieces.
double readAll(const std::vector<Extent>& extents) {
    std::vector<char> buffer(16 << 20);
    const auto start = Clock::now();
    for (const Extent& e : extents) {
        const int fd = ::open(e.path.c_str(), O_RDONLY);
        if (fd < 0) continue;
        for (std::uint64_t done = 0; done < e.bytes;) {
            const auto want =
                static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), e.bytes - done));
            const ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(e.offset + done));
            if (n <= 0) break;
            done += static_cast<std::uint64_t>(n);
        }
        ::close(fd);
    }
    return seconds(start, Clock::now());
}

std::string fmt(const char* pattern, double a, double b = 0, double c = 0, double d = 0) {
    char text[256];
    std::snprintf(text, sizeof text, pattern, a, b, c, d);
    return text;
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::string path = "/work/scratch/llama7b";
    std::string out = std::string(CWB_SOURCE_DIR) + "/bench/results/llm_table.md";
    int threads = 0;
    bool kernelsOnly = false, noAlphaRho = false, noDefaults = false;
    double gigabytes = 0.0;  // 0: every matrix
    std::string device = "cpu";
    std::vector<DType> formats = {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                                  DType::Q6_K, DType::Q5_K, DType::Q4_K, DType::Q3_K, DType::Q2_K};
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--threads" && i + 1 < argc) {
            threads = std::stoi(argv[++i]);
        } else if (a == "--gigabytes" && i + 1 < argc) {
            gigabytes = std::stod(argv[++i]);
        } else if (a == "--device" && i + 1 < argc) {
            device = argv[++i];
        } else if (a == "--no-alpha-rho") {
            noAlphaRho = true;
        } else if (a == "--no-defaults") {
            noDefaults = true;
        } else if (a == "--kernels-only") {
            kernelsOnly = true;
        } else if (a == "--out" && i + 1 < argc) {
            out = argv[++i];
        } else if (a == "--formats" && i + 1 < argc) {
            formats.clear();
            std::istringstream s(argv[++i]);
            for (std::string name; std::getline(s, name, ',');) {
                DType t{};
                if (!parseDType(name, t)) {
                    std::fprintf(stderr, "unknown format %s\n", name.c_str());
                    return 2;
                }
                formats.push_back(t);
            }
        } else if (!a.empty() && a[0] == '-') {
            refuseOption(a,
                         "llm_table_bench [CHECKPOINT] [--threads N] [--gigabytes G] "
                         "[--formats Q8_0,...] [--no-alpha-rho] [--no-defaults] [--kernels-only] "
                         "[--device D] [--out FILE]");
        } else {
            path = a;
        }
    }
    threads = resolveThreads(threads);
    const BackendChoice choice = chooseBackend(device);
    if (!choice.note.empty()) std::printf("%s\n", choice.note.c_str());
    Backend* backend = choice.backend;
    const std::string load0 = loadAverage();
    std::printf("checkpoint %s, %d threads, load %s, row pass on %s (%s)\n", path.c_str(), threads,
                load0.c_str(), backend->name().c_str(), backend->description().c_str());

    const LlamaCheckpoint checkpoint = openLlamaCheckpoint(path);
    const std::vector<LlamaTensorRole> roles = llamaTensorRoles(checkpoint);
    std::vector<const Tensor*> matrices;
    std::vector<Extent> extents;
    std::uint64_t values = 0, bytes = 0;
    for (const LlamaTensorRole& role : roles) {
        const Tensor& t = *role.tensor;
        if (t.shape().size() != 2) continue;
        if (gigabytes > 0 && double(bytes + t.byteSize()) > gigabytes * 1e9) break;
        const MappedFile* file = mappedFileOf(t);
        if (!file) continue;
        matrices.push_back(&t);
        extents.push_back({file->path(), static_cast<std::uint64_t>(t.bytes() - file->data()),
                           static_cast<std::uint64_t>(t.byteSize())});
        values += static_cast<std::uint64_t>(t.elements());
        bytes += t.byteSize();
    }

    // 1. Each kernel on one row in the cache: the largest tensor's row 1, over and over.
    std::vector<std::string> kernelRows, sharedRows;
    const Tensor* big = matrices.front();
    for (const Tensor* t : matrices)
        if (t->elements() > big->elements()) big = t;
    const std::int64_t cols = big->shape()[1];
    std::vector<float> row(static_cast<std::size_t>(cols));
    tensorRowToFloat(*big, 1, row.data());
    {
        volatile double sink = 0.0;
        const std::size_t rowBytes = dtypeStorageBytes(big->dtype(), std::uint64_t(cols));
        const double decode = nsPerValue(cols, [&] {
            sink = sink + quant::dequantizeRowSquares(big->dtype(), big->bytes() + rowBytes,
                                                      row.data(), cols);
        });
        kernelRows.push_back(
            fmt("| bf16 row to float32, and its sum of squares | %.2f | | |", decode));
        std::printf("decode %.2f ns/value\n", decode);
        for (DType f : formats) {
            const auto& format = quant::blockFormat(f);
            const auto fast = format.squaredError[static_cast<int>(quant::activeIsa())];
            const auto ref = format.squaredError[0];
            const double ns = nsPerValue(cols, [&] { sink = sink + fast(row.data(), cols); });
            const double nsRef = nsPerValue(cols, [&] { sink = sink + ref(row.data(), cols); });
            kernelRows.push_back("| " + dtypeName(f) +
                                 fmt(" | %.2f | %.1f | %.0fx |", ns, nsRef, nsRef / ns));
            std::printf("kernel %-5s %.2f ns/value (reference %.1f)\n", dtypeName(f).c_str(), ns,
                        nsRef);
        }
    }

    // Several formats on the row at once, as measureSchemes asks (the 32-value ones share a
    // pass), against the sum of their kernels alone.
    {
        volatile double sink = 0.0;
        const std::vector<DType> legacy = {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                                           DType::Q5_1};
        const std::vector<DType> defaults = {DType::Q8_0, DType::Q6_K, DType::Q5_K, DType::Q4_K,
                                             DType::Q4_0, DType::Q3_K, DType::Q2_K};
        for (const auto& [formats, name] :
             {std::pair{legacy, "the five 32-value formats"},
              std::pair{std::vector<DType>{DType::Q8_0, DType::Q4_0}, "Q8_0 and Q4_0"},
              std::pair{defaults, "the window's 7 default formats"}}) {
            const std::vector<DType>& set = formats;  // clang 14 cannot capture a binding
            double sum = 0.0;
            for (DType f : set) {
                const auto& format = quant::blockFormat(f);
                const auto fast = format.squaredError[static_cast<int>(quant::activeIsa())];
                sum += nsPerValue(cols, [&] { sink = sink + fast(row.data(), cols); });
            }
            std::vector<double> errors(set.size());
            const double together = nsPerValue(cols, [&] {
                quant::quantizationErrors(set, row.data(), cols, errors.data());
                sink = sink + errors[0];
            });
            sharedRows.push_back("| " + std::string(name) + fmt(" | %.2f | %.2f |", together, sum));
            std::printf("%s: %.2f ns/value together, %.2f one by one\n", name, together, sum);
        }
    }

    if (kernelsOnly) return 0;

    // 2. The anchor and the columns, interleaved.
    const double cold = readAll(extents);
    std::printf("read %.2f GB: %.1f s (the first read of this run)\n", double(bytes) / 1e9, cold);
    double cpu0 = processSeconds();
    double anchor = readAll(extents);
    double anchorCpu = processSeconds() - cpu0;
    std::printf("anchor %.2f s (%.2f s of CPU)\n", anchor, anchorCpu);
    std::vector<std::string> columnRows;
    auto column = [&](const std::vector<LlmScheme>& chosen, const std::string& name) {
        const std::string loadBefore = loadAverage();
        const auto start = Clock::now();
        const double cpuStart = processSeconds();
        for (const Tensor* t : matrices) {
            std::vector<LlmScheme> fitting;
            for (const LlmScheme& f : chosen)
                if (!f.format ||
                    t->shape()[1] % static_cast<std::int64_t>(dtypeBlockSize(*f.format)) == 0)
                    fitting.push_back(f);
            measureSchemes(*t, fitting, threads, {}, backend);
        }
        const double s = seconds(start, Clock::now());
        const double cpu = processSeconds() - cpuStart;
        cpu0 = processSeconds();
        const double after = readAll(extents);
        const double afterCpu = processSeconds() - cpu0;
        const double mean = 0.5 * (anchor + after), meanCpu = 0.5 * (anchorCpu + afterCpu);
        // CPU time per thread against the read's: what the wall ratio would be on an idle
        // machine where both threads run all the time.
        const double cpuRatio = cpu / threads / meanCpu;
        columnRows.push_back(
            "| " + name + fmt(" | %.1f s | %.2f s | %.2fx | %.2fx |", s, mean, s / mean, cpuRatio) +
            " " + loadBefore + " |");
        std::printf(
            "%-22s %7.1f s, anchors %.2f / %.2f s: %.2fx the cached read; CPU %.1f s over "
            "%d threads against %.2f s: %.2fx (load %s)\n",
            name.c_str(), s, anchor, after, s / mean, cpu, threads, meanCpu, cpuRatio,
            loadBefore.c_str());
        anchor = after;
        anchorCpu = afterCpu;
    };
    for (DType f : formats) column({LlmScheme{f, {}}}, dtypeName(f));
    if (!noAlphaRho) {
        LayerSettings alphaRho;
        alphaRho.quant.alpha = 0.01f;
        alphaRho.prune.rho = 0.01f;
        column({LlmScheme{std::nullopt, alphaRho}}, "alpha 0.01, rho 0.01");
    }
    if (formats.size() > 1) {  // the 32-value formats asked for, in their shared pass
        std::vector<LlmScheme> legacy;
        for (DType f : formats)
            if (dtypeBlockSize(f) == 32) legacy.push_back({f, {}});
        if (legacy.size() > 1)
            column(legacy, "the " + std::to_string(legacy.size()) + " 32-value formats together");
    }
    if (!noDefaults) {
        std::vector<LlmScheme> defaults;
        for (DType f : {DType::Q8_0, DType::Q6_K, DType::Q5_K, DType::Q4_K, DType::Q4_0,
                        DType::Q3_K, DType::Q2_K})
            defaults.push_back({f, {}});
        column(defaults, "the window's 7 default formats together");
    }
    const std::string mem = memory(), load1 = loadAverage();

    std::ostringstream md;
    md << "# The whole-model table against reading the checkpoint (llm_table_bench)\n\n"
       << "Checkpoint `" << path << "`: " << matrices.size() << " matrices"
       << (gigabytes > 0 ? fmt(" (the first %.1f GB of them)", gigabytes) : std::string()) << ", "
       << fmt("%.2f", double(values) / 1e9) << " G values, " << fmt("%.2f", double(bytes) / 1e9)
       << " GB. Machine: " << cpuName() << ", " << threads << " threads, kernels "
       << quant::isaName(quant::activeIsa()) << "; load average " << load0 << " at the start, "
       << load1 << " at the end. Row pass (Backend::measureSchemeRows) on " << backend->name()
       << ": " << backend->description() << ".\n\n"
       << "Rerun: `build/bench/llm_table_bench " << path
       << (gigabytes > 0 ? fmt(" --gigabytes %g", gigabytes) : std::string())
       << (device != "cpu" ? " --device " + device : std::string()) << "`\n\n"
       << "## Each column against the page-cache read (goal <= 2x)\n\n"
       << "The anchor: the same matrices' bytes read with pread() in 16 MiB pieces, from the "
          "page cache (first read of the run "
       << fmt("%.1f", cold)
       << " s), before and after "
          "each column; a column's ratio is against the mean of its two anchors. A column is "
          "measureSchemes over every matrix, as the window's table runs it. The CPU-time "
          "ratio sets the column's CPU time (user and system, all threads) divided by the "
          "thread count against the read's CPU time: what the wall ratio comes to where "
          "nothing else competes for the cores (on a loaded machine the wall ratio grows "
          "with the load, the read's single thread being hit less than two busy ones).\n\n"
       << "| formats | table | cached read | ratio | CPU-time ratio | load at start |\n"
       << "|---|---|---|---|---|---|\n";
    for (const auto& r : columnRows) md << r << "\n";
    md << "\nMemory at the end: " << mem << ".\n\n"
       << "## Each kernel on one cached row (one thread, CPU time)\n\n"
       << "| format | vector kernel, ns/value | reference (encode, decode, sum), ns/value | "
          "speedup |\n"
       << "|---|---|---|---|\n";
    for (const auto& r : kernelRows) md << r << "\n";
    md << "\n## Several formats on the cached row at once (one thread, CPU time)\n\n"
       << "quant::quantizationErrors, as measureSchemes calls it for each row (the 32-value "
          "formats share one pass: loads and block extremes), against their kernels one by "
          "one.\n\n"
       << "| formats | together, ns/value | one by one, ns/value |\n|---|---|---|\n";
    for (const auto& r : sharedRows) md << r << "\n";
    std::ofstream(out) << md.str();
    std::printf("wrote %s\n", out.c_str());
    return 0;
}
