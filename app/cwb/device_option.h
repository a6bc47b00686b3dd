// `--device cpu|cuda[:N]|auto` of the commands that compress, evaluate or train: checked while
// parsing against core's device names (core/backend/backend.h), then turned into the backend
// that runs their jobs, with core's one-line note on stderr where another device runs them.
#pragma once

#include <string>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace cwb {
class Backend;
}

namespace cwb::cli {

CLI::Option* addDeviceOption(CLI::App& app, std::string& device);

// The backend for `device`; prints the fallback note, if any, to stderr.
Backend* deviceBackend(const std::string& device);

}  // namespace cwb::cli
