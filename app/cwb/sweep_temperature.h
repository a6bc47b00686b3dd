// `cwb sweep TEACHER --param temperature --from X --to Y --steps N [...]`: one short student
// per temperature, distilled from the teacher, against the same student trained without
// the teacher (kd-weight 0). cmd_sweep.cpp dispatches --param temperature here.
#pragma once

#include "app/cwb/sweep_args.h"

namespace cwb::cli {

// Runs the sweep; prints a table (and writes --csv). Returns the exit code.
int runTemperatureSweep(const SweepArgs& args);

}  // namespace cwb::cli
