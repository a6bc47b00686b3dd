// A sweep: the active parameter stepped over a range in the background, each step
// compressed and measured, so the accuracy and latency curve fills in point by point.
#pragma once

#include <QVector>
#include <functional>
#include <memory>

#include "ui/settings/evaluation_history.h"
#include "ui/worker/latest_wins_lane.h"
#include "ui/worker/session.h"

namespace cwb::ui {

struct SweepRequest {
    std::shared_ptr<const Session> session;
    CompressionSettings base;  // everything but the swept parameter
    Parameter parameter = Parameter::Alpha;
    QVector<double> values;
    int limit = 0;  // images per point; 0 = the whole test set
};

// `values` log-spaced points between lo and hi (inclusive).
QVector<double> logSpaced(double lo, double hi, int count);

// Calls onPoint (on the worker thread) after each point; progress counts images over all
// points. Throws Cancelled when the sweep is stale.
void runSweep(const SweepRequest& request, const JobContext& context,
              const std::function<void(const EvaluatedPoint& point, int index)>& onPoint);

}  // namespace cwb::ui
