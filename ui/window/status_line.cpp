// The status bar (see status_line.h).
#include "ui/window/status_line.h"

#include <QLabel>
#include <QProgressBar>
#include <QStatusBar>

#include "ui/worker/recompute_controller.h"

namespace cwb::ui {

StatusLine::StatusLine(QStatusBar* bar) : QObject(bar), m_bar(bar) {
    m_model = new QLabel(bar);
    m_dataset = new QLabel(bar);
    m_dataset->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_device = new QLabel(bar);
    m_accuracy = new QLabel(bar);
    m_progress = new QProgressBar(bar);
    m_progress->setMaximumWidth(160);
    m_progress->setMaximumHeight(bar->fontMetrics().height() + 4);
    m_progress->setTextVisible(false);
    m_progress->setVisible(false);
    bar->addWidget(m_model);
    bar->addWidget(m_dataset, 1);
    bar->addPermanentWidget(m_device);
    bar->addPermanentWidget(m_accuracy);
    bar->addPermanentWidget(m_progress);
}

void StatusLine::setModel(const QString& text, const QString& tooltip) {
    m_model->setText(text);
    m_model->setToolTip(tooltip);
}

void StatusLine::setDataset(const QString& text, bool available) {
    m_dataset->setText(text);
    m_dataset->setStyleSheet(available ? QString()
                                       : QStringLiteral("color: #b00020; font-weight: bold"));
}

void StatusLine::setDevice(const QString& backend, const QString& note) {
    m_device->setText(note.isEmpty() ? backend : note);
    m_device->setStyleSheet(note.isEmpty() ? QString() : QStringLiteral("color: #b00020"));
}

QString StatusLine::datasetText() const { return m_dataset->text(); }
QString StatusLine::deviceText() const { return m_device->text(); }
QString StatusLine::accuracyText() const { return m_accuracy->text(); }

void StatusLine::setAccuracy(const AccuracyUpdate& u, double latencyMs) {
    QString text = tr("accuracy %1 %").arg(u.accuracy() * 100, 0, 'f', 2);
    if (!u.final)
        text += tr(" (%1\u2013%2 %, 95 % CI, %L3 of %L4 images)")
                    .arg(u.low * 100, 0, 'f', 1)
                    .arg(u.high * 100, 0, 'f', 1)
                    .arg(u.samples)
                    .arg(u.total);
    else
        text += tr(" on %L1 images").arg(u.samples);
    if (u.final && latencyMs > 0) text += tr(", %1 ms / image").arg(latencyMs, 0, 'f', 3);
    m_accuracy->setText(text);
}

void StatusLine::clearAccuracy(const QString& text) { m_accuracy->setText(text); }

void StatusLine::setBusy(bool busy) {
    m_progress->setVisible(busy);
    if (busy) m_progress->setRange(0, 0);  // indeterminate until a progress figure arrives
}

void StatusLine::setProgress(qint64 done, qint64 total) {
    if (total <= 0) return;
    m_progress->setRange(0, 1000);
    m_progress->setValue(static_cast<int>(1000 * done / total));
}

}  // namespace cwb::ui
