// Depth-checked JSON parsing (see json_guard.h).
#include "core/util/json_guard.h"

#include "core/error.h"

namespace cwb {
namespace {

// Deepest nesting of [ and { outside strings. Stops early once past `limit`.
int nestingDepth(std::string_view text, int limit) {
    int depth = 0, deepest = 0;
    bool inString = false, escaped = false;
    for (const char c : text) {
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
            continue;
        }
        if (c == '"')
            inString = true;
        else if (c == '[' || c == '{') {
            if (++depth > deepest) deepest = depth;
            if (deepest > limit) return deepest;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return deepest;
}

}  // namespace

nlohmann::json parseJsonGuarded(std::string_view text, const std::string& where, int maxDepth) {
    if (nestingDepth(text, maxDepth) > maxDepth)
        throw Error(where + ": JSON is nested more than " + std::to_string(maxDepth) +
                    " levels deep; the file is corrupt or hostile");
    try {
        return nlohmann::json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::exception& e) {
        std::string detail = e.what();
        // nlohmann's messages start with "[json.exception.parse_error.101] "; keep the useful part.
        if (const auto close = detail.find("] "); close != std::string::npos)
            detail = detail.substr(close + 2);
        throw Error(where + ": malformed JSON (" + detail + ")");
    }
}

}  // namespace cwb
