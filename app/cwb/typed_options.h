// Options with a checked range, for every `cwb` command: a value that is not a number of the
// right kind, or lies outside the range, is refused while parsing (exit 2) with one line
// naming the option, the range and what was given, before any work starts. The range also
// shows in --help.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <string_view>

namespace cwb::cli {

// The most threads any command accepts with --threads (0 = all cores).
inline constexpr int kMaxThreads = 1024;

// An interval of real numbers, each end closed or open: [0, 1), (0, 1000].
struct Interval {
    double lo = 0.0, hi = 0.0;
    bool openLo = false, openHi = false;

    static Interval closed(double lo, double hi) { return {lo, hi, false, false}; }
    static Interval leftOpen(double lo, double hi) { return {lo, hi, true, false}; }
    static Interval rightOpen(double lo, double hi) { return {lo, hi, false, true}; }
    static Interval open(double lo, double hi) { return {lo, hi, true, true}; }

    bool contains(double v) const;
    std::string text() const;  // "[0, 1)"
};

// Validators for CLI11 options: a whole number in lo..hi, a finite number in an interval.
// main.cpp prints their messages after the option's name: "option --threads: expects a
// whole number in 0..1024, got 'x'".
CLI::Validator wholeNumberIn(long long lo, long long hi);
CLI::Validator numberIn(const Interval& interval);
// A value that `check` accepts: it throws cwb::Error, whose message is the validator's (for
// the names that core's parsers know: "unknown scheme 'x'; expected symmetric or asymmetric").
CLI::Validator parsedBy(std::function<void(std::string_view)> check);
// A word that `accepts` takes; `expected` says which ("auto, float, int8 or sparse").
CLI::Validator wordIn(std::function<bool(const std::string&)> accepts, const std::string& expected);

// `name` is CLI11's option name ("--threads"); `target` an integer, a double or a
// std::optional of either (empty when the option is not given). --help shows the range and
// the target's value at declaration as the default.
template <class Target>
CLI::Option* addInteger(CLI::App& app, const std::string& name, Target& target, long long lo,
                        long long hi, const std::string& help) {
    return app.add_option(name, target, help)
        ->type_name("N")
        ->check(wholeNumberIn(lo, hi))
        ->capture_default_str();
}

// --threads: worker threads, 0 (all cores) to kMaxThreads; every command that computes has it.
template <class Target>
CLI::Option* addThreadsOption(CLI::App& app, Target& threads) {
    return addInteger(app, "--threads", threads, 0, kMaxThreads, "worker threads (0 = all cores)");
}

template <class Target>
CLI::Option* addNumber(CLI::App& app, const std::string& name, Target& target,
                       const Interval& range, const std::string& help) {
    return app.add_option(name, target, help)
        ->type_name("X")
        ->check(numberIn(range))
        ->capture_default_str();
}

// --data DIR: the folder of a data set, its default shown in --help.
inline CLI::Option* addDataOption(CLI::App& app, std::string& dir, const std::string& help) {
    return app.add_option("--data", dir, help)->type_name("DIR")->capture_default_str();
}

// Marks an option required; a default is no use then, so --help shows none.
inline CLI::Option* requiredOption(CLI::Option* option) {
    return option->required()->default_str("");
}

}  // namespace cwb::cli
