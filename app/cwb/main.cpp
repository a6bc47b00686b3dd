// cwb: the workbench engine without the window, for scripted runs. Parses the command line
// with CLI11 against the registered commands (command.h) and maps every failure to one line
// on stderr: usage errors exit 2, failures of the work itself (cwb::Error) exit 1.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>

#include "app/cwb/command.h"
#include "core/error.h"
#include "core/infer/cpu/gemm.h"

namespace {

using cwb::cli::Command;
using cwb::cli::RunFunction;
using cwb::cli::UsageError;

std::string commandNames(const std::vector<Command>& commands) {
    std::string names;
    for (const Command& c : commands) names += (names.empty() ? "" : ", ") + c.name;
    return names;
}

// One line for a usage error, with where to look: "cwb eval: ...; run 'cwb eval --help' ...".
int usageError(const std::string& command, const std::string& message) {
    const std::string prefix = command.empty() ? "cwb" : "cwb " + command;
    std::cerr << prefix << ": " << message << "; run '" << prefix << " --help' for usage\n";
    return 2;
}

// CLI11's messages, reworded where they would not read as a sentence about the option.
std::string describe(const CLI::ParseError& e) {
    const std::string text = e.what();
    const auto colon = text.find(": ");
    if (colon != std::string::npos && text.rfind("-", 0) == 0) {
        const std::string option = text.substr(0, colon), rest = text.substr(colon + 2);
        if (dynamic_cast<const CLI::ValidationError*>(&e)) return "option " + text;
        if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) &&
            rest.find("missing") != std::string::npos)
            return "option " + option + " needs a value";
    }
    return text;
}

// What the parser set aside: the first unknown option, else the first extra argument.
std::string describeExtras(const std::vector<std::string>& extras, bool commandLevel) {
    for (const std::string& arg : extras)
        if (arg.size() > 1 && arg[0] == '-')
            return "unknown option " + arg.substr(0, arg.find('='));
    return commandLevel ? "unexpected argument '" + extras.front() + "'"
                        : "unknown command '" + extras.front() + "'";
}

}  // namespace

int main(int argc, char** argv) {
    cwb::cpu::restartWithFasterBlas();
    std::vector<Command> commands = cwb::cli::commandRegistry();
    std::sort(commands.begin(), commands.end(),
              [](const Command& a, const Command& b) { return a.name < b.name; });

    CLI::App app("cwb " CWB_VERSION
                 ": the Compression Workbench engine without the window, for scripted runs",
                 "cwb");
    app.set_version_flag("--version", "cwb " CWB_VERSION);
    app.allow_extras();  // reported below as one line, not as CLI11's list
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.get_formatter()->column_width(34);
    std::vector<std::pair<CLI::App*, RunFunction>> parsers;
    for (const Command& command : commands) {
        CLI::App* sub = app.add_subcommand(command.name, command.summary);
        sub->allow_extras();
        parsers.emplace_back(sub, command.setup(*sub));
    }
    app.footer("Run 'cwb COMMAND --help' for the options of a command.");  // not inherited
    const auto selected = [&]() -> std::pair<CLI::App*, RunFunction>* {
        for (auto& parser : parsers)
            if (parser.first->parsed()) return &parser;
        return nullptr;
    };

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        const auto* parser = selected();
        // An unknown option explains a missing one better than the other way round.
        if (parser && !parser->first->remaining().empty())
            return usageError(parser->first->get_name(),
                              describeExtras(parser->first->remaining(), true));
        return usageError(parser ? parser->first->get_name() : "", describe(e));
    }
    if (!app.remaining().empty()) return usageError("", describeExtras(app.remaining(), false));
    const auto* parser = selected();
    if (!parser) return usageError("", "a command is required (" + commandNames(commands) + ")");
    const std::string name = parser->first->get_name();
    if (!parser->first->remaining().empty())
        return usageError(name, describeExtras(parser->first->remaining(), true));
    try {
        return parser->second();
    } catch (const UsageError& e) {
        return usageError(name, e.what());
    } catch (const std::exception& e) {
        std::cerr << "cwb " << name << ": " << e.what() << "\n";
        return 1;
    }
}
