// `cwb sweep TEACHER --param temperature --from X --to Y --steps N [...]`: one short student
// per temperature, distilled from the teacher, against the same student trained without
// the teacher (kd-weight 0). cmd_sweep.cpp dispatches --param temperature here.
#pragma once

#include <string>
#include <vector>

#include "app/cwb/command.h"

namespace cwb::cli {

// The options this sweep understands (beyond --param), for the dispatcher's allowOnly.
std::vector<std::string> temperatureSweepOptions();

// Runs the sweep; prints a table (and writes --csv). Returns the exit code.
int runTemperatureSweep(const Args& args);

}  // namespace cwb::cli
