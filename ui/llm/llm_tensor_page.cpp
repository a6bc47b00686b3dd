// The language-model mode's histogram page (see llm_tensor_page.h).
#include "ui/llm/llm_tensor_page.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSplitter>
#include <QVBoxLayout>

#include "ui/plots/error_histogram_plot.h"
#include "ui/plots/result_view.h"
#include "ui/plots/weight_histogram_plot.h"

namespace cwb::ui {

LlmTensorPage::LlmTensorPage(QWidget* parent) : QWidget(parent) {
    m_weights = new WeightHistogramPlot(this);
    m_weights->setObjectName("llmWeightPlot");
    m_error = new ErrorHistogramPlot(this);
    m_error->setObjectName("llmErrorPlot");
    m_note = new QLabel(this);
    m_note->setObjectName("llmTensorNote");
    m_note->setWordWrap(true);
    m_note->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* rows = new QSplitter(Qt::Vertical, this);
    rows->addWidget(m_weights);
    rows->addWidget(m_error);
    rows->setStretchFactor(0, 3);
    rows->setStretchFactor(1, 2);
    rows->setChildrenCollapsible(false);
    m_log = new QCheckBox(tr("Log counts"), this);
    m_log->setToolTip(tr("Counts on a log axis: shows the tails and the levels together"));
    auto* bottom = new QHBoxLayout;
    bottom->addWidget(m_note, 1);
    bottom->addWidget(m_log, 0, Qt::AlignTop);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(rows, 1);
    layout->addLayout(bottom);
    connect(m_log, &QCheckBox::toggled, this, [this](bool on) {
        m_weights->setLogCounts(on);
        m_error->setLogCounts(on);
        emit logCountsToggled(on);
    });
    clearAll(tr("Select a tensor in the browser"));
}

QList<PlotBase*> LlmTensorPage::plots() const { return {m_weights, m_error}; }

void LlmTensorPage::showView(const LlmTensorView& v) {
    const TensorStats& s = v.stats;
    HistogramView h;
    h.edges = edgesOf(s.original);
    h.original = countsOf(s.original);
    if (v.compressed) h.compressed = countsOf(s.compressed);
    h.zeros = s.zeros;
    h.total = s.elements;
    if (v.compressed && !v.blockLevels.empty()) {
        h.levels.assign(v.blockLevels.begin(), v.blockLevels.end());
        h.levelsNote = tr("levels of the block at max |W|: %1").arg(v.blockLevels.size());
    } else if (v.compressed && s.levels > 0 && s.levels <= WeightHistogramPlot::kMaxLevelLines) {
        h.levelsNote = tr("distinct values: %L1").arg(s.levels);
    }
    const QString scope =
        v.exact
            ? v.label
            : tr("%1 (preview: %L2 of %L3 rows)").arg(v.label).arg(v.rowsMeasured).arg(v.rowsTotal);
    m_weights->setHistogram(h, scope);
    if (v.compressed)
        m_error->setHistogram(edgesOf(s.error), countsOf(s.error), errorSummary(s));
    else
        m_error->clearData(tr("%1 stays as stored under these settings").arg(v.label));
    QString what = v.compressed ? describeLlmCompression(v.settings) : tr("as stored");
    m_note->setText(
        tr("<b>%1</b>: %L2 weights, %3 bits/weight, %4. %5 in %6 ms.")
            .arg(v.label.toHtmlEscaped())
            .arg(s.elements)
            .arg(v.bitsPerWeight, 0, 'f', 2)
            .arg(what.toHtmlEscaped())
            .arg(v.exact ? tr("Exact statistics")
                         : tr("<i>Preview on %L1 evenly spaced rows of %L2; the exact histograms "
                              "follow</i>")
                               .arg(v.rowsMeasured)
                               .arg(v.rowsTotal))
            .arg(v.seconds * 1000, 0, 'f', 0));
}

void LlmTensorPage::clearAll(const QString& message) {
    m_weights->clearData(message);
    m_error->clearData(message);
    m_note->setText(message);
}

void LlmTensorPage::setLogCounts(bool log) { m_log->setChecked(log); }

}  // namespace cwb::ui
