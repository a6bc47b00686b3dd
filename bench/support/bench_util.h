// What every benchmark reports beside its figures (the machine, its load, the CPU time spent)
// and the small helpers they share: medians, and a refusal of options they do not know.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace cwb::bench {

// The median; the mean of the middle two for an even count; 0 for none.
double median(std::vector<double> values);

// Wall milliseconds of `runs` calls of body, their median.
template <typename F>
double medianMilliseconds(int runs, F&& body) {
    std::vector<double> times;
    for (int i = 0; i < runs; ++i) {
        const auto start = std::chrono::steady_clock::now();
        body();
        times.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
    }
    return median(std::move(times));
}

// Milliseconds from a to b.
inline double ms(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

// CPU seconds used by the whole process (all threads): with other jobs on the machine, wall
// time measures the share we got, CPU time what the work itself costs.
double processCpuSeconds();

// The 1, 5 and 15 minute load averages, "1.48 / 1.46 / 1.61".
std::string loadAverage();

// The CPU's model name from /proc/cpuinfo.
std::string cpuName();

// The nice value of this process's scheduler group ("-20" under bench/quiet.sh), or "".
std::string autogroupNice();

// Ends the program with exit status 2 and one line naming the option it does not know.
[[noreturn]] void refuseOption(const std::string& option, const char* usage);

}  // namespace cwb::bench
