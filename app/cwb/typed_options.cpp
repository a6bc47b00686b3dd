// Range-checked options (see typed_options.h).
#include "app/cwb/typed_options.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "core/error.h"

namespace cwb::cli {
namespace {

std::string numberText(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", v);
    return buffer;
}

}  // namespace

CLI::Validator wholeNumberIn(long long lo, long long hi) {
    const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
    return CLI::Validator(
        [lo, hi, range](std::string& text) -> std::string {
            long long value = 0;
            const char* end = text.data() + text.size();
            const auto [stop, error] = std::from_chars(text.data(), end, value);
            if (text.empty() || error != std::errc() || stop != end || value < lo || value > hi)
                return "expects a whole number in " + range + ", got '" + text + "'";
            return {};
        },
        range);
}

CLI::Validator numberIn(const Interval& interval) {
    return CLI::Validator(
        [interval](std::string& text) -> std::string {
            char* end = nullptr;
            const double value = text.empty() ? NAN : std::strtod(text.c_str(), &end);
            if (text.empty() || *end != '\0' || !std::isfinite(value) || !interval.contains(value))
                return "expects a number in " + interval.text() + ", got '" + text + "'";
            return {};
        },
        interval.text());
}

CLI::Validator parsedBy(std::function<void(std::string_view)> check) {
    return CLI::Validator(
        [check = std::move(check)](std::string& text) -> std::string {
            try {
                check(text);
                return {};
            } catch (const Error& e) {
                return e.what();
            }
        },
        "");
}

CLI::Validator wordIn(std::function<bool(const std::string&)> accepts,
                      const std::string& expected) {
    return CLI::Validator(
        [accepts = std::move(accepts), expected](std::string& text) -> std::string {
            return accepts(text) ? std::string() : "expects " + expected + ", got '" + text + "'";
        },
        "");
}

bool Interval::contains(double v) const {
    return (openLo ? v > lo : v >= lo) && (openHi ? v < hi : v <= hi);
}

std::string Interval::text() const {
    return (openLo ? "(" : "[") + numberText(lo) + ", " + numberText(hi) + (openHi ? ")" : "]");
}

}  // namespace cwb::cli
