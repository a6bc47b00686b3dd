// Saving models in the background (see model_saver.h).
#include "ui/worker/model_saver.h"

#include "core/io/keras_h5_writer.h"

namespace cwb::ui {

ModelSaver::ModelSaver(QObject* parent) : QObject(parent) {
    connect(&m_lane, &LatestWinsLane::failed, this,
            [this](const QString& message) { emit failed(m_path, message); });
}

void ModelSaver::save(std::shared_ptr<const Model> model, const QString& path) {
    m_path = path;
    m_lane.submit<QString>(
        [model, path](const JobContext&) {
            saveKerasH5(*model, path.toStdString());
            return path;
        },
        [this](QString written) { emit saved(written); });
}

}  // namespace cwb::ui
