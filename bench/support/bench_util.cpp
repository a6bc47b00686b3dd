// Machine facts and medians for the benchmarks (bench_util.h).
#include "bench/support/bench_util.h"

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "core/infer/cpu/gemm.h"

namespace cwb::bench {

namespace {
// Before main: every benchmark, and its SGEMM anchors, run on the BLAS kernels this CPU can
// run (gemm.h says why OpenBLAS may need a restart).
const bool kFasterBlas = (cpu::restartWithFasterBlas(), true);
}  // namespace

double median(std::vector<double> values) {
    if (values.empty()) return 0.0;
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

double processCpuSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

std::string loadAverage() {
    std::ifstream f("/proc/loadavg");
    double one = 0, five = 0, fifteen = 0;
    f >> one >> five >> fifteen;
    char text[64];
    std::snprintf(text, sizeof text, "%.2f / %.2f / %.2f", one, five, fifteen);
    return text;
}

std::string cpuName() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown CPU";
}

std::string autogroupNice() {
    std::ifstream f("/proc/self/autogroup");
    std::string group, word;
    int nice = 0;
    if (!(f >> group >> word >> nice) || word != "nice") return "";
    return std::to_string(nice);
}

void refuseOption(const std::string& option, const char* usage) {
    std::fprintf(stderr, "unknown option %s; usage: %s\n", option.c_str(), usage);
    std::exit(2);
}

}  // namespace cwb::bench
