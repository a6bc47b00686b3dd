// Opening a model off the GUI thread: reading the file (HDF5 and zip readers can take a
// while), profiling its weights once, and loading the test split the first time.
#pragma once

#include <QString>
#include <memory>

#include "ui/worker/latest_wins_lane.h"
#include "ui/worker/session.h"

namespace cwb::ui {

// Images per chunk of the test set: the accuracy updates after each.
inline constexpr int kAccuracyChunk = 1000;
// Batch size of every measurement, so latencies are comparable; small enough that a
// cancel is seen within a few ms of work even for the CNNs.
inline constexpr int kEvalBatch = 250;

// Throws cwb::Error (one line for the user) when the model cannot be read. A missing data
// set is not an error: the session then has no test data and says how to install it.
// `cached` is a session whose data set can be reused (may be null). Jobs run on `backend`.
std::shared_ptr<const Session> loadSession(const QString& modelPath, const QString& datasetDir,
                                           const std::shared_ptr<const Session>& cached,
                                           Backend* backend, const JobContext& context);

// `session` with its jobs on `backend` instead: the same model, profile and data, a new
// Measurer (cheap: nothing is computed until it measures).
std::shared_ptr<const Session> onBackend(const Session& session, Backend* backend);

}  // namespace cwb::ui
