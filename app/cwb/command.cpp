// The command registry (see command.h).
#include "app/cwb/command.h"

namespace cwb::cli {

std::vector<Command>& commandRegistry() {
    static std::vector<Command> registry;
    return registry;
}

}  // namespace cwb::cli
