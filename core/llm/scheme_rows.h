// The row pass of the whole-model table (measureSchemes, llm_scheme_table.h) over one matrix:
// its signal and extremes, each block format's squared error and each alpha/rho rule's error
// and zeros. A Backend job (Backend::measureSchemeRows): the CPU's is measureSchemeRowsOnCpu
// below; a GPU computes the same figures from one upload of the stored rows.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "core/model/tensor.h"
#include "core/quant/step_error.h"
#include "core/util/progress.h"

namespace cwb {

struct SchemeRowsJob {
    const Tensor* tensor = nullptr;  // [rows, cols], any stored dtype
    std::vector<DType> formats;      // llama.cpp block formats whose blocks divide cols
    std::vector<quant::StepRule> rules;
    bool extremes = false;  // min and max wanted (the step rules' code range needs them)
};

struct SchemeRowSums {
    double signal = 0.0;                                             // sum of W^2
    float min = std::numeric_limits<float>::infinity(), max = -min;  // where job.extremes
    std::vector<double> formatError;             // per job.formats: sum of (W' - W)^2
    std::vector<quant::StepErrorSums> ruleSums;  // per job.rules
};

// On the CPU: rows in fixed chunks of 16 whose sums merge in order (the figures do not depend
// on `threads`), a mapped tensor's chunk read with pread (tensorBytes), each row decoded once and
// measured by quant::quantizationErrors and quant::addStepError. Throws Cancelled when `progress`
// asks to stop (after a chunk).
SchemeRowSums measureSchemeRowsOnCpu(const SchemeRowsJob& job, int threads,
                                     const Progress& progress);

}  // namespace cwb
