// The at-a-glance summary (see summary_panel.h).
#include "ui/panels/summary_panel.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QVBoxLayout>

#include "ui/settings/evaluation_history.h"
#include "ui/worker/recompute_controller.h"

namespace cwb::ui {

namespace {
QString kib(double bytes) {
    return bytes >= 1024 * 1024 ? QObject::tr("%1 MiB").arg(bytes / (1024 * 1024), 0, 'f', 2)
                                : QObject::tr("%1 KiB").arg(bytes / 1024, 0, 'f', 1);
}
}  // namespace

SummaryPanel::SummaryPanel(QWidget* parent) : QWidget(parent) {
    auto* box = new QGroupBox(tr("Effect of the current settings"), this);
    auto* form = new QFormLayout(box);
    form->setLabelAlignment(Qt::AlignLeft);
    QFont strong = font();
    strong.setBold(true);
    for (QLabel** label : {&m_size, &m_accuracy, &m_latency}) {
        *label = new QLabel(box);
        (*label)->setFont(strong);
        (*label)->setWordWrap(true);
        (*label)->setTextInteractionFlags(Qt::TextSelectableByMouse);
    }
    form->addRow(tr("Size"), m_size);
    form->addRow(tr("Accuracy"), m_accuracy);
    form->addRow(tr("Latency"), m_latency);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(box);
    clear();
}

void SummaryPanel::clear() {
    m_baseAccuracy = m_baseLatency = m_accuracyValue = m_latencyValue = -1;
    m_size->setText(QStringLiteral("\u2014"));
    m_accuracy->setText(QStringLiteral("\u2014"));
    m_latency->setText(QStringLiteral("\u2014"));
}

void SummaryPanel::setCompression(const ModelStats& s) {
    m_size->setText(tr("%1 \u2192 %2 (\u00f7%3)")
                        .arg(kib(double(s.float32Bytes)), kib(double(s.encodedBytes)))
                        .arg(s.ratio, 0, 'f', 1));
    m_size->setToolTip(QString::fromStdString(s.weights.size.description));
}

void SummaryPanel::setBaseline(const EvaluatedPoint& baseline) {
    m_baseAccuracy = baseline.accuracy;
    m_baseLatency = baseline.latencyMs;
    refreshAccuracy();
    if (m_latencyValue > 0) setLatency(m_latencyValue, m_engine);
}

void SummaryPanel::setAccuracy(const AccuracyUpdate& u) {
    m_accuracyValue = u.samples ? u.accuracy() : -1;
    m_low = u.low;
    m_high = u.high;
    m_final = u.final;
    m_samples = u.samples;
    m_total = u.total;
    refreshAccuracy();
}

void SummaryPanel::setLatency(double ms, const QString& engine) {
    m_latencyValue = ms;
    m_engine = engine;
    QString text = tr("%1 ms / image").arg(ms, 0, 'f', 3);
    if (m_baseLatency > 0) text = tr("%1 \u2192 %2").arg(m_baseLatency, 0, 'f', 3).arg(text);
    m_latency->setText(text);
    m_latency->setToolTip(tr("Measured wall time of the forward pass, %1").arg(engine));
}

void SummaryPanel::refreshAccuracy() {
    QString text;
    if (m_baseAccuracy >= 0) text = tr("%1 %").arg(m_baseAccuracy * 100, 0, 'f', 2);
    if (m_accuracyValue >= 0) {
        const QString current = tr("%1 %").arg(m_accuracyValue * 100, 0, 'f', 2);
        text = text.isEmpty() ? current : tr("%1 \u2192 %2").arg(text, current);
        if (m_baseAccuracy >= 0)
            text += tr(" (%1%2)")
                        .arg(m_accuracyValue >= m_baseAccuracy ? "+" : "\u2212")
                        .arg(std::abs(m_accuracyValue - m_baseAccuracy) * 100, 0, 'f', 2);
        if (!m_final)
            text += tr("\n%1\u2013%2 % so far (%L3 of %L4 images)")
                        .arg(m_low * 100, 0, 'f', 1)
                        .arg(m_high * 100, 0, 'f', 1)
                        .arg(m_samples)
                        .arg(m_total);
    }
    m_accuracy->setText(text.isEmpty() ? QStringLiteral("\u2014") : text);
}

QString SummaryPanel::sizeText() const { return m_size->text(); }
QString SummaryPanel::accuracyText() const { return m_accuracy->text(); }

}  // namespace cwb::ui
