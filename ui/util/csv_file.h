// Saving a table as a CSV file from the window: core's CsvWriter written atomically
// (core/util/atomic_file.h), the failure as one line for a message box instead of an exception.
#pragma once

#include <QString>

#include "core/util/csv.h"

namespace cwb::ui {

// Writes `table` to `path` (an existing file survives a failure); false with the reason in
// *error (when given) if it could not.
bool writeCsvFile(const QString& path, const CsvWriter& table, QString* error);

}  // namespace cwb::ui
