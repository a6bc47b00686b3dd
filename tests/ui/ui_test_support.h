// Helpers shared by the window tests: isolated settings, waiting for the worker, and
// reading back what a plot actually shows.
#pragma once

#include <qcustomplot.h>

#include <QSettings>
#include <QtTest>
#include <vector>

#include "tests/support/test_paths.h"
#include "tests/support/timing.h"
#include "ui/window/main_window.h"
#include "ui/worker/recompute_controller.h"

namespace cwb::test {

// Settings of this test process only: nothing read from or written to the user's.
inline void isolateSettings() {
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope,
                       QString::fromStdString(tempDir()) + "/settings");
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope,
                       QString::fromStdString(tempDir()) + "/settings");
    QSettings().clear();
}

// Every (key, value) pair of a bars plottable, in key order.
inline std::vector<std::pair<double, double>> barsData(const QCPBars* bars) {
    std::vector<std::pair<double, double>> out;
    for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it)
        out.emplace_back(it->key, it->value);
    return out;
}

}  // namespace cwb::test

// Waits until the window's worker has nothing queued or running.
#define CWB_WAIT_IDLE(window, ms) QTRY_VERIFY_WITH_TIMEOUT((window).controller()->isIdle(), ms)
