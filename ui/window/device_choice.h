// The window's Device box wired to its jobs: the chosen device goes to the worker
// (RecomputeController::setDevice, through the core's chooseBackend), the backend that runs
// the jobs, or the one-line note where another device runs them, shows in the status line,
// and the choice is remembered in QSettings ("device") like the window's other settings.
#pragma once

class QComboBox;

namespace cwb::ui {

class RecomputeController;
class StatusLine;

// Restores the remembered device first (an entry the box lacks, as from another build, still
// goes to the worker, which falls back to the CPU with a note).
void connectDeviceBox(QComboBox* box, RecomputeController* controller, StatusLine* status);

}  // namespace cwb::ui
