// Names of an enum's values as one table per enum: naming a value and parsing a name are one
// lookup in it, not a switch and a loop written again for every enum.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace cwb {

template <typename E>
struct EnumName {
    E value;
    std::string_view name;
};

// The value's name, or "?" for a value the table lacks.
template <typename E, std::size_t N>
std::string nameOf(const std::array<EnumName<E>, N>& table, E value) {
    for (const auto& entry : table)
        if (entry.value == value) return std::string(entry.name);
    return "?";
}

// The value named `text`; false (and `out` untouched) for a name the table lacks.
template <typename E, std::size_t N>
bool parseName(const std::array<EnumName<E>, N>& table, std::string_view text, E& out) {
    for (const auto& entry : table)
        if (entry.name == text) {
            out = entry.value;
            return true;
        }
    return false;
}

}  // namespace cwb
