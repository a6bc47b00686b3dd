// Argument parsing and the command registry (see command.h).
#include "app/cwb/command.h"

#include <algorithm>
#include <cstdlib>

#include "core/error.h"

namespace cwb::cli {

std::map<std::string, Command>& commandRegistry() {
    static std::map<std::string, Command> registry;
    return registry;
}

Args::Args(std::vector<std::string> tokens, const std::vector<std::string>& flags) {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const std::string& token = tokens[i];
        if (token.rfind("--", 0) != 0 || token.size() == 2) {
            m_positional.push_back(token);
            continue;
        }
        std::string key = token.substr(2);
        const auto eq = key.find('=');
        if (eq != std::string::npos) {
            m_options[key.substr(0, eq)] = key.substr(eq + 1);
        } else if (std::find(flags.begin(), flags.end(), key) != flags.end()) {
            m_options.insert_or_assign(key, std::string(1, '1'));  // a flag
        } else {
            if (i + 1 >= tokens.size()) throw Error("option --" + key + " needs a value");
            m_options[key] = tokens[++i];
        }
    }
}

std::string Args::text(const std::string& option, const std::string& fallback) const {
    const auto it = m_options.find(option);
    return it == m_options.end() ? fallback : it->second;
}

double Args::number(const std::string& option, double fallback) const {
    const auto it = m_options.find(option);
    if (it == m_options.end()) return fallback;
    char* end = nullptr;
    const double value = std::strtod(it->second.c_str(), &end);
    if (end == it->second.c_str() || *end != '\0')
        throw Error("option --" + option + " expects a number, got '" + it->second + "'");
    return value;
}

int Args::integer(const std::string& option, int fallback) const {
    const auto it = m_options.find(option);
    if (it == m_options.end()) return fallback;
    char* end = nullptr;
    const long value = std::strtol(it->second.c_str(), &end, 10);
    if (end == it->second.c_str() || *end != '\0')
        throw Error("option --" + option + " expects an integer, got '" + it->second + "'");
    return static_cast<int>(value);
}

void Args::allowOnly(const std::vector<std::string>& known) const {
    for (const auto& [key, value] : m_options)
        if (std::find(known.begin(), known.end(), key) == known.end())
            throw Error("unknown option --" + key + "; run 'cwb --help' for usage");
}

}  // namespace cwb::cli
