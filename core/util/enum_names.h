// Names of an enum's values as one table per enum: naming a value and parsing a name are one
// lookup in it, not a switch and a loop written again for every enum. A table is any range of
// EnumName (a C array or a std::array).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cwb {

template <typename E>
struct EnumName {
    E value;
    std::string_view name;
    std::string_view alias = {};  // a short form that parsing also takes; empty for none
};

// The value's name, or "?" for a value the table lacks.
template <typename Table, typename E>
std::string nameOf(const Table& table, E value) {
    for (const auto& entry : table)
        if (entry.value == value) return std::string(entry.name);
    return "?";
}

// The value named (or aliased) `text`; false, and `out` untouched, for a name the table lacks.
template <typename Table, typename E>
bool parseName(const Table& table, std::string_view text, E& out) {
    for (const auto& entry : table)
        if (entry.name == text || (!entry.alias.empty() && entry.alias == text)) {
            out = entry.value;
            return true;
        }
    return false;
}

// Every name in the table's order (a list box's entries, an error's "expected ...").
template <typename Table>
std::vector<std::string> namesOf(const Table& table) {
    std::vector<std::string> out;
    for (const auto& entry : table) out.emplace_back(entry.name);
    return out;
}

}  // namespace cwb
