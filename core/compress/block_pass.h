// A llama.cpp block format as a fused pass: what Backend::runBlockPass runs on the CPU, and the
// rules every backend's block pass shares (core/backend/cuda/block_pass.cu is the GPU's).
#pragma once

#include <cstddef>

#include "core/compress/fused_pass.h"
#include "core/model/dtype.h"

namespace cwb {

// Throws cwb::Error where `format` is not a weight format of core/quant (a llama.cpp block
// format, F16, BF16 or F32), rows are not whole blocks of it, the options cannot run, or the
// job asks for another quantizer or counted codes.
void checkBlockJob(DType format, const FusedJob& job, const FusedOptions& options);

// The CPU's block pass: job.keep first (a pruned weight enters its block as 0), then every row
// of job.in through quant::quantizeRow into `blocks` where not null (rows back to back) and
// dequantizeRow into job.out where not null; the figures of those values against job.in as
// compareRows counts them (zeros, sums, and where options.histograms the three histograms;
// rows in fixed chunks, so nothing depends on options.threads). Cancelled when `progress`
// asks to stop.
FusedResult runBlockPassOnCpu(DType format, const FusedJob& job, const FusedOptions& options,
                              std::byte* blocks, const Progress& progress = {});

}  // namespace cwb
