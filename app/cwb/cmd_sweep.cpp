// `cwb sweep MODEL --param NAME ...`: one figure per value of a parameter. This minimal
// dispatcher knows --param temperature (sweep_temperature.cpp); alpha and rho belong to the
// compression sweep, which replaces this file and keeps the temperature hook below.
#include "app/cwb/command.h"
#include "app/cwb/sweep_temperature.h"
#include "core/error.h"

namespace cwb::cli {
namespace {

int runSweep(const Args& args) {
    const std::string param = args.text("param");
    if (param == "temperature") return runTemperatureSweep(args);
    throw Error(param.empty() ? "--param is required, e.g. --param temperature"
                              : "--param " + param + " is not available in this build; use --param temperature");
}

const CommandRegistration registration{{
    "sweep",
    "sweep TEACHER --param temperature --from X --to Y --steps N [--epochs E] [--csv F]",
    "student accuracy per distillation temperature, beside the student trained without the teacher",
    {},
    runSweep,
}};

}  // namespace
}  // namespace cwb::cli
