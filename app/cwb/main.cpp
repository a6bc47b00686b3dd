// cwb: the workbench engine without the window, for scripted runs.
#include <cstdio>
#include <exception>
#include <iostream>

#include "app/cwb/command.h"
#include "core/error.h"

namespace {

void printUsage() {
    std::cout << "usage: cwb COMMAND [ARGS...]\n\ncommands:\n";
    for (const auto& [name, command] : cwb::cli::commandRegistry())
        std::printf("  %-60s %s\n", command.usage.c_str(), command.summary.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
        printUsage();
        return argc < 2 ? 2 : 0;
    }
    const auto& registry = cwb::cli::commandRegistry();
    const auto found = registry.find(argv[1]);
    if (found == registry.end()) {
        std::cerr << "cwb: unknown command '" << argv[1] << "'; run 'cwb --help' for the list\n";
        return 2;
    }
    try {
        const cwb::cli::Args args(std::vector<std::string>(argv + 2, argv + argc),
                                  found->second.flags);
        return found->second.run(args);
    } catch (const std::exception& e) {
        std::cerr << "cwb " << argv[1] << ": " << e.what() << "\n";
        return 1;
    }
}
