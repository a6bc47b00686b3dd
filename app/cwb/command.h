// Subcommands of `cwb`. Each lives in its own cmd_*.cpp and registers itself with a static
// CommandRegistration: a name, a one-line summary, and a setup function that declares the
// command's options on its CLI11 subcommand (bound to the command's own option struct) and
// returns the function that runs it. main.cpp parses and dispatches; nothing else is shared.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.h"

namespace CLI {
class App;
}  // namespace CLI

namespace cwb::cli {

// A command line that cannot run as given (a bad or missing option, conflicting options):
// main prints it on one line with the command's name and exits 2. Failures of the work
// itself are cwb::Error (exit 1).
class UsageError : public std::runtime_error {
public:
    explicit UsageError(const std::string& message) : std::runtime_error(message) {}
};

// Runs `parse` and reports a cwb::Error from it as a usage error: for option values that
// core's parsers check (compression settings, architecture specs).
template <class Parse>
auto asUsage(Parse&& parse) -> decltype(parse()) {
    try {
        return parse();
    } catch (const Error& e) {
        throw UsageError(e.what());
    }
}

// Returns the process's exit status.
using RunFunction = std::function<int()>;
// Declares the options on `app` and returns the run function; the run function may read
// what the options were parsed into (keep it in a shared_ptr the function captures).
using SetupFunction = std::function<RunFunction(CLI::App& app)>;

struct Command {
    std::string name;
    std::string summary;  // one line: what it does
    SetupFunction setup;
};

// The registered commands, in registration order.
std::vector<Command>& commandRegistry();

struct CommandRegistration {
    CommandRegistration(std::string name, std::string summary, SetupFunction setup) {
        commandRegistry().push_back({std::move(name), std::move(summary), std::move(setup)});
    }
};

// The usual command: `declare(app, args)` binds the options to a fresh Args, and the run
// function calls `run(args)` on what they were parsed into (`run(args, app)` where it asks
// the subcommand which options were given).
template <class Args, class Run>
CommandRegistration command(std::string name, std::string summary,
                            void (*declare)(CLI::App&, Args&), Run run) {
    return CommandRegistration(
        std::move(name), std::move(summary), [declare, run](CLI::App& app) -> RunFunction {
            auto args = std::make_shared<Args>();
            declare(app, *args);
            if constexpr (std::is_invocable_v<Run, const Args&, const CLI::App&>)
                return [args, run, &app] { return run(*args, app); };
            else
                return [args, run] { return run(*args); };
        });
}

}  // namespace cwb::cli
