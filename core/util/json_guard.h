// JSON parsing for text that comes from files. nlohmann's DOM is built recursively, so
// nesting depth is checked first: a header of a million '[' must not overflow the stack.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace cwb {

// Parses `text`; throws cwb::Error "<where>: ..." for malformed JSON or nesting deeper
// than `maxDepth`.
nlohmann::json parseJsonGuarded(std::string_view text, const std::string& where, int maxDepth = 64);

}  // namespace cwb
