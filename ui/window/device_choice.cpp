// The Device box, the worker's backend and the remembered choice (see device_choice.h).
#include "ui/window/device_choice.h"

#include <QComboBox>
#include <QSettings>
#include <QSignalBlocker>

#include "ui/window/status_line.h"
#include "ui/worker/recompute_controller.h"

namespace cwb::ui {

namespace {
constexpr const char* kDeviceKey = "device";
}  // namespace

void connectDeviceBox(QComboBox* box, RecomputeController* controller, StatusLine* status) {
    QObject::connect(controller, &RecomputeController::deviceChosen, status,
                     &StatusLine::setDevice);
    const QString remembered =
        QSettings().value(kDeviceKey, box->currentData().toString()).toString();
    if (const int index = box->findData(remembered); index >= 0) {
        const QSignalBlocker quiet(box);
        box->setCurrentIndex(index);
    }
    controller->setDevice(remembered);
    QObject::connect(box, &QComboBox::currentIndexChanged, controller, [box, controller](int i) {
        const QString device = box->itemData(i).toString();
        QSettings().setValue(kDeviceKey, device);
        controller->setDevice(device);
    });
}

}  // namespace cwb::ui
