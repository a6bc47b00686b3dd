// Shared plot styling and saving (see plot_base.h).
#include "ui/plots/plot_base.h"

#include <QFileDialog>
#include <QMenu>

#include "core/error.h"
#include "core/util/atomic_file.h"

namespace cwb::ui {

QFont PlotBase::plotFont(int delta, bool bold) {
    QFont font;
    font.setPointSize(qMax(6, font.pointSize() + 1 + delta));
    font.setBold(bold);
    return font;
}

void PlotBase::styleAxis(QCPAxis* axis, const QString& label) {
    axis->setLabel(label);
    axis->setLabelFont(plotFont(0, true));
    axis->setTickLabelFont(plotFont(-1));
    const QPen pen(QColor(60, 60, 60), 1.2);
    axis->setBasePen(pen);
    axis->setTickPen(pen);
    axis->setSubTickPen(pen);
    axis->setLabelPadding(4);
    axis->grid()->setPen(QPen(QColor(215, 215, 215), 1, Qt::DotLine));
}

PlotBase::PlotBase(const QString& title, QWidget* parent) : QCustomPlot(parent) {
    setNoAntialiasingOnDrag(true);
    setAntialiasedElements(QCP::aePlottables | QCP::aeItems);
    plotLayout()->insertRow(0);
    m_title = new QCPTextElement(this, title, plotFont(1, true));
    m_title->setMargins({4, 4, 4, 0});
    plotLayout()->addElement(0, 0, m_title);
    styleAxis(xAxis, {});
    styleAxis(yAxis, {});
    legend->setFont(plotFont(-1));
    legend->setBrush(QColor(255, 255, 255, 220));
    legend->setBorderPen(QPen(QColor(180, 180, 180)));
    legend->setRowSpacing(0);

    m_message = new QCPItemText(this);
    m_message->setClipToAxisRect(false);
    m_message->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_message->position->setCoords(0.5, 0.5);
    m_message->setFont(plotFont(0));
    m_message->setColor(palette::muted);
    m_message->setVisible(false);

    setContextMenuPolicy(Qt::CustomContextMenu);
    connect(this, &QWidget::customContextMenuRequested, this, &PlotBase::showContextMenu);
}

void PlotBase::useCrispBars() {
    setAntialiasedElements(antialiasedElements() & ~QCP::AntialiasedElements(QCP::aePlottables));
    setNotAntialiasedElements(QCP::aePlottables);
}

void PlotBase::placeLegendUnderTitle() {
    axisRect()->insetLayout()->take(legend);
    plotLayout()->insertRow(1);
    plotLayout()->addElement(1, 0, legend);
    plotLayout()->setRowStretchFactor(1, 0.001);
    legend->setFillOrder(QCPLegend::foColumnsFirst);
    legend->setBorderPen(Qt::NoPen);
    legend->setBrush(Qt::NoBrush);
    legend->setMargins({2, 0, 2, 0});
    legend->setColumnSpacing(12);
    legend->setVisible(true);
}

void PlotBase::setTitle(const QString& title) {
    if (m_title->text() == title) return;
    m_title->setText(title);
    queueReplot();
}

QString PlotBase::title() const { return m_title->text(); }

void PlotBase::setMessage(const QString& message) {
    m_message->setText(message);
    m_message->setVisible(!message.isEmpty());
    queueReplot();
}

QString PlotBase::message() const { return m_message->visible() ? m_message->text() : QString(); }

bool PlotBase::saveTo(const QString& path, int width, int height) {
    const bool pdf = path.endsWith(QLatin1String(".pdf"), Qt::CaseInsensitive);
    try {
        // QCustomPlot writes in place; the core's writer gives it a temporary file and
        // renames it over `path` only once the plot is complete.
        writeFileAtomically(QFile::encodeName(path).toStdString(), [&](const std::string& temp) {
            const QString file = QFile::decodeName(temp.c_str());
            const bool saved = pdf ? savePdf(file, width, height, QCP::epNoCosmetic,
                                             QStringLiteral("Compression Workbench"), title())
                                   : savePng(file, width, height, 2.0);
            if (!saved) throw Error(temp + ": QCustomPlot could not write the plot");
        });
        return true;
    } catch (const Error&) {
        return false;
    }
}

void PlotBase::showContextMenu(const QPoint& pos) {
    QMenu menu(this);
    menu.addAction(tr("Save plot as PNG or PDF\u2026"), this, [this] {
        QString name =
            title().section(QLatin1Char(':'), 0, 0).simplified().toLower().replace(' ', '-');
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save plot"), name + ".png", tr("PNG image (*.png);;PDF document (*.pdf)"));
        if (!path.isEmpty() && !saveTo(path))
            QMessageBox::warning(this, tr("Save plot"), tr("Could not write %1.").arg(path));
    });
    menu.addAction(tr("Reset zoom"), this, [this] {
        rescaleAxes();
        queueReplot();
    });
    menu.exec(mapToGlobal(pos));
}

}  // namespace cwb::ui
