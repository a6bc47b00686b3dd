// JSON for compression results and kernel reports, shared by `cwb compress --report`,
// `cwb eval --json` and `cwb sweep`.
#pragma once

#include <nlohmann/json.hpp>

#include "core/compress/compress_model.h"
#include "core/infer/compressed_engine.h"

namespace cwb::cli {

using Json = nlohmann::ordered_json;

Json tensorStatsJson(const TensorStats& s, bool histograms);
// Per layer and whole model; histograms (with their shared edges) when asked.
Json compressionJson(const CompressionResult& result, bool histograms);
Json kernelReportJson(const KernelReport& report);

}  // namespace cwb::cli
