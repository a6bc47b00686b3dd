// Compression and kernel reports as JSON (see compression_report.h).
#include "app/cwb/compression_report.h"

#include <cmath>

namespace cwb::cli {
namespace {

// JSON has no infinity: an exact reconstruction has no finite SQNR.
Json finiteOrNull(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

Json histogramJson(const Histogram& h) {
    return Json{{"bins", h.spec.bins}, {"lo", h.spec.lo},          {"hi", h.spec.hi},
                {"counts", h.counts},  {"underflow", h.underflow}, {"overflow", h.overflow}};
}

}  // namespace

Json tensorStatsJson(const TensorStats& s, bool histograms) {
    Json j{{"role", s.role},
           {"elements", s.elements},
           {"zeros", s.zeros},
           {"original_zeros", s.originalZeros},
           {"sparsity", s.sparsity},
           {"levels", s.levels},
           {"effective_bits", s.effectiveBits},
           {"mse", s.mse},
           {"sqnr_db", finiteOrNull(s.sqnrDb)},
           {"max_abs_error", s.maxAbsError},
           {"min", s.minValue},
           {"max", s.maxValue},
           {"size_bytes", s.size.bytes},
           {"float32_bytes", s.size.float32Bytes},
           {"ratio", s.size.ratio},
           {"code_bits", s.size.codeBits},
           {"sparse_format", sparseFormatName(s.size.sparse)},
           {"encoding", s.size.description}};
    if (histograms && !s.original.counts.empty())
        j["histograms"] = Json{{"original", histogramJson(s.original)},
                               {"compressed", histogramJson(s.compressed)},
                               {"error", histogramJson(s.error)}};
    return j;
}

Json compressionJson(const CompressionResult& r, bool histograms) {
    Json layers = Json::array();
    for (const auto& l : r.layers) {
        Json others = Json::array();
        for (const auto& o : l.others) others.push_back(tensorStatsJson(o, histograms));
        layers.push_back(Json{{"name", l.name},
                              {"class", l.className},
                              {"compressed", l.compressed},
                              {"settings", l.settingsText},
                              {"kernel", tensorStatsJson(l.kernel, histograms)},
                              {"others", others}});
    }
    Json total = tensorStatsJson(r.total.weights, histograms);
    total["model_parameters"] = r.total.parameters;
    total["model_float32_bytes"] = r.total.float32Bytes;
    total["model_bytes"] = r.total.encodedBytes;
    total["model_ratio"] = r.total.ratio;
    return Json{{"seconds", r.seconds}, {"total", total}, {"layers", layers}};
}

Json kernelReportJson(const KernelReport& report) {
    Json layers = Json::array();
    for (const auto& l : report.layers)
        layers.push_back(
            Json{{"layer", l.layer},
                 {"class", l.className},
                 {"path", l.path},
                 {"reason", l.reason},
                 {"sparsity", l.sparsity},
                 {"code_bits", l.codeBits},
                 {"float_ms_per_1000", l.floatMs >= 0 ? Json(l.floatMs) : Json(nullptr)},
                 {"int8_ms_per_1000", l.int8Ms >= 0 ? Json(l.int8Ms) : Json(nullptr)},
                 {"sparse_ms_per_1000", l.sparseMs >= 0 ? Json(l.sparseMs) : Json(nullptr)},
                 {"speedup", l.speedup}});
    return Json{{"engine", report.engine}, {"layers", layers}};
}

}  // namespace cwb::cli
