// Parameter sweeps (see sweep_job.h).
#include "ui/worker/sweep_job.h"

#include <cmath>

#include "ui/worker/accuracy_job.h"
#include "ui/worker/plan_builder.h"

namespace cwb::ui {

QVector<double> logSpaced(double lo, double hi, int count) {
    QVector<double> out;
    if (count <= 0 || !(lo > 0) || !(hi > lo)) return out;
    for (int i = 0; i < count; ++i) {
        const double t = count == 1 ? 0.0 : double(i) / (count - 1);
        const double v = lo * std::pow(hi / lo, t);
        const double scale = std::pow(10.0, std::floor(std::log10(v)) - 2);  // 3 significant digits
        out.append(std::round(v / scale) * scale);
    }
    return out;
}

void runSweep(const SweepRequest& request, const JobContext& context,
              const std::function<void(const EvaluatedPoint&, int)>& onPoint) {
    const Session& session = *request.session;
    const long long perPoint = request.limit > 0
                                   ? std::min<long long>(request.limit, session.testData->size())
                                   : session.testData->size();
    const long long total = perPoint * request.values.size();
    for (int i = 0; i < request.values.size(); ++i) {
        CompressionSettings settings = request.base;
        setParameterValue(settings, request.parameter, request.values[i]);
        CompressOptions options;
        options.stats = session.stats;
        options.stats.histograms = false;  // the sweep only needs sizes, sparsity and accuracy
        options.profile = session.profile;
        Progress cancelOnly;
        cancelOnly.callback = [&context](long long, long long) { return context.isCurrent(); };
        const CompressionResult compressed =
            compressModel(*session.model, toPlan(settings), options, cancelOnly);
        Progress progress;
        progress.callback = [&context, i, perPoint, total](long long done, long long) {
            return !context.progress.callback ||
                   context.progress.callback(i * perPoint + done, total);
        };
        const AccuracyResult accuracy =
            measureAccuracy(compressed.model, {settings.kernels, &compressed.grids}, session,
                            progress, {}, request.limit);
        EvaluatedPoint point = makePoint(settings, compressed.total, accuracy);
        point.fromSweep = true;
        onPoint(point, i);
    }
}

}  // namespace cwb::ui
