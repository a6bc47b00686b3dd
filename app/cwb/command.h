// Subcommands of `cwb`. Each lives in its own cmd_*.cpp and registers itself with a
// static CommandRegistration, so adding a command touches no shared table.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace cwb::cli {

// Parsed command line: positional arguments and --options (an option followed by a value
// unless it is declared as a flag by the command).
class Args {
public:
    Args(std::vector<std::string> tokens, const std::vector<std::string>& flags);

    const std::vector<std::string>& positional() const { return m_positional; }
    bool has(const std::string& option) const { return m_options.count(option) > 0; }
    std::string text(const std::string& option, const std::string& fallback = "") const;
    double number(const std::string& option, double fallback) const;
    int integer(const std::string& option, int fallback) const;
    // Throws cwb::Error naming the first option that the command does not know.
    void allowOnly(const std::vector<std::string>& known) const;

private:
    std::vector<std::string> m_positional;
    std::map<std::string, std::string> m_options;
};

struct Command {
    std::string name;
    std::string usage;               // one line: "info MODEL"
    std::string summary;             // one line: what it does
    std::vector<std::string> flags;  // options that take no value
    std::function<int(const Args&)> run;
};

std::map<std::string, Command>& commandRegistry();

struct CommandRegistration {
    explicit CommandRegistration(Command command) {
        commandRegistry()[command.name] = std::move(command);
    }
};

}  // namespace cwb::cli
