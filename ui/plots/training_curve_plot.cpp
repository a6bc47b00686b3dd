// Live training curves (see training_curve_plot.h).
#include "ui/plots/training_curve_plot.h"

namespace cwb::ui {

TrainingCurvePlot::TrainingCurvePlot(QWidget* parent) : PlotBase(tr("Student training"), parent) {
    styleAxis(xAxis, tr("epoch"));
    styleAxis(yAxis, tr("loss"));
    styleAxis(yAxis2, tr("test accuracy (%)"));
    yAxis2->setVisible(true);
    yAxis->setLabelColor(palette::compressed.darker(130));
    yAxis2->setLabelColor(palette::secondary);
    yAxis2->setTickLabelColor(palette::secondary);
    m_loss = addGraph(xAxis, yAxis);
    m_loss->setName(tr("training loss"));
    m_loss->setPen(QPen(palette::compressed, 1.6));
    m_accuracy = addGraph(xAxis, yAxis2);
    m_accuracy->setName(tr("student accuracy"));
    m_accuracy->setPen(QPen(palette::secondary, 2.4));
    m_accuracy->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 7));
    m_teacher = new QCPItemStraightLine(this);
    m_teacher->point1->setAxes(xAxis, yAxis2);
    m_teacher->point2->setAxes(xAxis, yAxis2);
    m_teacher->setPen(QPen(palette::original, 1.5, Qt::DashLine));
    m_teacher->setVisible(false);
    m_teacherText = new QCPItemText(this);
    m_teacherText->setClipToAxisRect(true);
    m_teacherText->position->setAxes(xAxis, yAxis2);
    m_teacherText->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
    m_teacherText->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
    m_teacherText->setColor(palette::original);
    m_teacherText->setFont(plotFont(-1));
    m_teacherText->setVisible(false);
    placeLegendUnderTitle();
    clearData(tr("press Train student to start"));
}

void TrainingCurvePlot::addLoss(double epoch, double loss) {
    m_loss->addData(epoch, loss);
    setMessage({});
    rescale();
}

void TrainingCurvePlot::addAccuracy(double epoch, double accuracy) {
    m_accuracy->addData(epoch, accuracy * 100);
    setMessage({});
    rescale();
}

void TrainingCurvePlot::setTeacherAccuracy(double accuracy) {
    m_teacher->setVisible(accuracy >= 0);
    m_teacher->point1->setCoords(0, accuracy * 100);
    m_teacher->point2->setCoords(1, accuracy * 100);
    m_teacherText->setVisible(accuracy >= 0);
    m_teacherText->position->setCoords(0.02, accuracy * 100);
    m_teacherText->setText(tr("teacher: %1 %").arg(accuracy * 100, 0, 'f', 2));
    rescale();
}

void TrainingCurvePlot::clearData(const QString& message) {
    m_loss->data()->clear();
    m_accuracy->data()->clear();
    xAxis->setRange(0, 1);
    yAxis->setRange(0, 1);
    yAxis2->setRange(0, 100);
    setMessage(message);
}

void TrainingCurvePlot::rescale() {
    bool found = false;
    double last = 1.0;
    const QCPRange keys = m_loss->data()->keyRange(found);
    if (found) last = std::max(last, keys.upper);
    const QCPRange epochs = m_accuracy->data()->keyRange(found);
    if (found) last = std::max(last, epochs.upper);
    xAxis->setRange(0, last * 1.04);  // the last epoch's dot clear of the frame
    const QCPRange losses = m_loss->data()->valueRange(found);
    if (found) yAxis->setRange(0, losses.upper * 1.1);
    double low = 100;
    const QCPRange acc = m_accuracy->data()->valueRange(found);
    if (found) low = acc.lower;
    if (m_teacher->visible()) low = std::min(low, m_teacher->point1->value());
    yAxis2->setRange(std::max(0.0, low - 10), 100);
    queueReplot();
}

}  // namespace cwb::ui
