// Writing models (the compressed model, a trained student) through the core's Keras .h5
// writer on a worker thread: HDF5 writes can take a while and must not freeze the window.
// The writer is atomic (temporary file + rename).
#pragma once

#include <QObject>
#include <memory>

#include "core/model/model.h"
#include "ui/worker/latest_wins_lane.h"

namespace cwb::ui {

class ModelSaver : public QObject {
    Q_OBJECT
public:
    explicit ModelSaver(QObject* parent = nullptr);
    void save(std::shared_ptr<const Model> model, const QString& path);
    bool isIdle() const { return m_lane.isIdle(); }

signals:
    void saved(const QString& path);
    void failed(const QString& path, const QString& message);

private:
    LatestWinsLane m_lane{QStringLiteral("save")};
    QString m_path;
};

}  // namespace cwb::ui
