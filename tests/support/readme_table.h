// README tables that tests check against their own rows: the "Bad inputs" tables list each
// hostile file and the pattern its one-line error must match.
#pragma once

#include <fstream>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace cwb::test {

// A pattern from a row as a regex: {N} is a number, {*} any text, the rest literal.
inline std::regex patternRegex(const std::string& pattern) {
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

// The rows `| kind | `pattern` |` of README.md under the heading line `heading` (up to the
// next heading of any level) as (kind, pattern) pairs.
inline std::vector<std::pair<std::string, std::string>> readmeTableRows(
    const std::string& readme, const std::string& heading) {
    std::ifstream in(readme);
    std::vector<std::pair<std::string, std::string>> rows;
    std::string line;
    bool inSection = false;
    while (std::getline(in, line)) {
        if (line.rfind("#", 0) == 0) inSection = line == heading;
        if (!inSection || line.rfind("| ", 0) != 0) continue;
        const auto tick = line.find(" | `");
        const auto end = line.rfind("` |");
        if (tick == std::string::npos || end == std::string::npos || end <= tick) continue;
        rows.emplace_back(line.substr(2, tick - 2), line.substr(tick + 4, end - tick - 4));
    }
    return rows;
}

}  // namespace cwb::test
