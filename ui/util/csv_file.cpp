// CSV files from the window (see csv_file.h).
#include "ui/util/csv_file.h"

#include <QFile>

#include "core/error.h"

namespace cwb::ui {

bool writeCsvFile(const QString& path, const CsvWriter& table, QString* error) {
    try {
        table.save(QFile::encodeName(path).toStdString());
        return true;
    } catch (const Error& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
}

}  // namespace cwb::ui
