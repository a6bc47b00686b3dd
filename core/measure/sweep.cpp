// Parameter sweeps (see sweep.h).
#include "core/measure/sweep.h"

#include <cmath>

#include "core/error.h"

namespace cwb {

std::string sweepParameterName(SweepParameter p) {
    return p == SweepParameter::Alpha ? "alpha" : "rho";
}

SweepParameter parseSweepParameter(std::string_view text) {
    if (text == "alpha") return SweepParameter::Alpha;
    if (text == "rho") return SweepParameter::Rho;
    throw Error("unknown sweep parameter '" + std::string(text) + "'; expected alpha or rho");
}

double sweepValue(const CompressionPlan& plan, SweepParameter p) {
    return p == SweepParameter::Alpha ? plan.defaults.quant.alpha : plan.defaults.prune.rho;
}

void setSweepValue(CompressionPlan& plan, SweepParameter p, double value) {
    (p == SweepParameter::Alpha ? plan.defaults.quant.alpha : plan.defaults.prune.rho) =
        static_cast<float>(value);
}

CompressionPlan sweepPlan(const CompressionPlan& base, SweepParameter p, double value) {
    CompressionPlan plan = base;
    setSweepValue(plan, p, value);
    if (p == SweepParameter::Alpha) {
        clearBitWidth(plan.defaults.quant);
    } else if (plan.defaults.prune.method != PruneMethod::TextbookThreshold) {
        plan.defaults.prune.method = PruneMethod::Threshold;
    }
    return plan;
}

std::vector<double> logSpaced(double lo, double hi, int count) {
    std::vector<double> out;
    if (count <= 0 || !(lo > 0) || !(hi > lo)) return out;
    for (int i = 0; i < count; ++i) {
        const double t = count == 1 ? 0.0 : double(i) / (count - 1);
        const double v = lo * std::pow(hi / lo, t);
        const double scale = std::pow(10.0, std::floor(std::log10(v)) - 2);  // 3 significant
        out.push_back(std::round(v / scale) * scale);
    }
    return out;
}

std::vector<double> linearSpaced(double from, double to, int count) {
    std::vector<double> out;
    for (int i = 0; i < count; ++i)
        out.push_back(count == 1 ? from : from + (to - from) * i / (count - 1));
    return out;
}

std::vector<SweepRow> sweep(const Measurer& measurer, const CompressionPlan& base,
                            const SweepOptions& options, const Progress& progress,
                            const std::function<void(const SweepRow&, int)>& onRow) {
    const long long perRow = measurer.samplesFor(options.limit);
    const long long total = perRow * static_cast<long long>(options.values.size());
    std::vector<SweepRow> rows;
    for (std::size_t i = 0; i < options.values.size(); ++i) {
        const long long before = perRow * static_cast<long long>(i);
        Progress rowProgress;
        if (progress.callback)
            rowProgress.callback = [&progress, before, total](long long done, long long) {
                return progress.callback(before + done, total);
            };
        SweepRow row;
        row.value = options.values[i];
        row.measurement = measurer.measure(sweepPlan(base, options.parameter, row.value),
                                           options.kernels, options.limit, rowProgress);
        rows.push_back(std::move(row));
        if (onRow) onRow(rows.back(), static_cast<int>(i));
    }
    return rows;
}

}  // namespace cwb
