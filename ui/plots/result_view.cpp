// Selecting plot data from a compression result (see result_view.h).
#include "ui/plots/result_view.h"

#include <cmath>

#include "core/compress/quantize.h"

namespace cwb::ui {

const TensorStats* statsFor(const CompressionResult& result, const QString& layer) {
    if (layer.isEmpty()) return &result.total.weights;
    for (const LayerStats& ls : result.layers)
        if (QString::fromStdString(ls.name) == layer) return &ls.kernel;
    return nullptr;
}

std::vector<double> edgesOf(const Histogram& h) {
    std::vector<double> edges;
    if (h.counts.empty()) return edges;
    edges.reserve(h.counts.size() + 1);
    for (int i = 0; i <= h.spec.bins; ++i) edges.push_back(h.edge(i));
    return edges;
}

std::vector<double> countsOf(const Histogram& h) { return {h.counts.begin(), h.counts.end()}; }

namespace {
// The grid values of the layers shown, or empty when they are many or not one shared grid.
std::vector<double> levelsFor(const CompressionResult& result, const QString& layer) {
    const KernelGrid* shared = nullptr;
    std::int32_t lo = 0, hi = -1;
    for (const LayerStats& ls : result.layers) {
        if (!layer.isEmpty() && QString::fromStdString(ls.name) != layer) continue;
        if (!ls.compressed || ls.layerIndex < 0 || ls.layerIndex >= int(result.grids.size()))
            continue;
        const KernelGrid& g = result.grids[ls.layerIndex];
        if (!g.quantized || g.steps.size() != 1 || g.zeroPoints.size() > 1) return {};
        const std::int32_t zp = g.zeroPoints.empty() ? 0 : g.zeroPoints[0];
        if (shared && (shared->steps[0] != g.steps[0] ||
                       (shared->zeroPoints.empty() ? 0 : shared->zeroPoints[0]) != zp))
            return {};
        if (!shared) {
            lo = g.codeMin;
            hi = g.codeMax;
        }
        shared = &g;
        lo = std::min(lo, g.codeMin);
        hi = std::max(hi, g.codeMax);
    }
    if (!shared || hi < lo || hi - lo + 1 > WeightHistogramPlot::kMaxLevelLines) return {};
    AffineQuantizer q;
    q.step = shared->steps[0];
    q.zeroPoint = shared->zeroPoints.empty() ? 0 : shared->zeroPoints[0];
    std::vector<double> levels;
    for (std::int32_t c = lo; c <= hi; ++c) levels.push_back(q.value(c));
    return levels;
}
}  // namespace

HistogramView histogramViewFor(const CompressionResult& result, const QString& layer) {
    HistogramView view;
    const TensorStats* s = statsFor(result, layer);
    if (!s) return view;
    view.edges = edgesOf(s->original);
    view.original = countsOf(s->original);
    view.compressed = countsOf(s->compressed);
    view.levels = levelsFor(result, layer);
    view.zeros = s->zeros;
    view.total = s->elements;
    return view;
}

QString errorSummary(const TensorStats& s) {
    if (s.sumSquaredError == 0.0) return QObject::tr("exact (no change)");
    return QObject::tr("SQNR %1 dB\nmax |e| %2")
        .arg(s.sqnrDb, 0, 'f', 1)
        .arg(s.maxAbsError, 0, 'g', 3);
}

}  // namespace cwb::ui
