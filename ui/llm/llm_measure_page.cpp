// The language-model measurement page (see llm_measure_page.h).
#include "ui/llm/llm_measure_page.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QUndoCommand>
#include <QUndoStack>
#include <QVBoxLayout>

#include "core/quant/quant_rows.h"
#include "ui/llm/generation_panel.h"
#include "ui/llm/llm_curve_plot.h"
#include "ui/plots/pareto_plot.h"
#include "ui/window/exporter.h"

namespace cwb::ui {

namespace {

const char* const kGroup = "llm";

// One change of the page's choices; consecutive edits of the same choice merge.
class ChoicesCommand : public QUndoCommand {
public:
    ChoicesCommand(LlmMeasurePage* page, LlmPageChoices before, LlmPageChoices after,
                   const QString& text)
        : QUndoCommand(text),
          m_page(page),
          m_before(std::move(before)),
          m_after(std::move(after)) {}
    void undo() override { m_page->applyChoices(m_before); }
    void redo() override { m_page->applyChoices(m_after); }
    int id() const override { return 0x11a0; }
    bool mergeWith(const QUndoCommand* other) override {
        if (other->id() != id() || other->text() != text()) return false;
        m_after = static_cast<const ChoicesCommand*>(other)->m_after;
        return true;
    }

private:
    LlmMeasurePage* m_page;
    LlmPageChoices m_before, m_after;
};

QString mib(double bytes) {
    return bytes >= 1024.0 * 1024 * 1024 ? QObject::tr("%1 GiB").arg(bytes / (1 << 30), 0, 'f', 2)
                                         : QObject::tr("%1 MiB").arg(bytes / (1 << 20), 0, 'f', 2);
}

LlmCurvePlot::Axis axisOf(LlmSweepKind kind) {
    return kind == LlmSweepKind::Alpha ? LlmCurvePlot::Axis::Alpha
           : kind == LlmSweepKind::Rho ? LlmCurvePlot::Axis::Rho
                                       : LlmCurvePlot::Axis::Bits;
}

// Where `c` sits on the curve of `kind` around `base`, or nothing when it is not on it.
std::optional<double> curveX(const LlmCompression& c, double bitsPerWeight, LlmSweepKind kind,
                             const LlmCompression& base) {
    if (kind == LlmSweepKind::Formats) {
        if (c.format && c.scope == base.scope) return bitsPerWeight;
        return std::nullopt;
    }
    const double x = kind == LlmSweepKind::Alpha ? c.settings.quant.alpha : c.settings.prune.rho;
    if (x <= 0) return std::nullopt;
    LlmSweepRequest r;
    r.kind = kind;
    r.values = {x};
    r.base = base;
    if (!sameCompression(sweepCompressions(r).front(), c)) return std::nullopt;
    return x;
}

LlmPageChoices loadChoices() {
    QSettings s;
    s.beginGroup(kGroup);
    LlmPageChoices c;
    c.textFile = s.value("textFile", c.textFile).toString();
    const int kind = s.value("sweepKind", int(c.sweepKind)).toInt();
    if (kind >= 0 && kind <= int(LlmSweepKind::Formats)) c.sweepKind = LlmSweepKind(kind);
    c.alphaValues = s.value("sweepAlpha", c.alphaValues).toString();
    c.rhoValues = s.value("sweepRho", c.rhoValues).toString();
    c.formats = s.value("sweepFormats", c.formats).toString();
    c.prompt = s.value("prompt", c.prompt).toString();
    c.tokens = std::clamp(s.value("tokens", c.tokens).toInt(), 1, 512);
    c.maxChunks = std::max(0, s.value("maxChunks", c.maxChunks).toInt());
    return c;
}

}  // namespace

LlmMeasurePage::LlmMeasurePage(QWidget* parent)
    : QWidget(parent),
      m_controller(new LlmMeasureController(this)),
      m_history(new LlmHistory(this)) {
    buildUi();
    m_choices = loadChoices();
    if (!m_choices.textFile.isEmpty() && !m_controller->setTextFile(m_choices.textFile))
        m_choices.textFile.clear();  // a remembered text that is gone: the bundled one
    m_controller->setMaxChunks(m_choices.maxChunks);
    showChoices();

    connect(m_controller, &LlmMeasureController::baselineMeasured, this,
            &LlmMeasurePage::onBaseline);
    connect(m_controller, &LlmMeasureController::currentChanged, this, &LlmMeasurePage::onCurrent);
    connect(m_controller, &LlmMeasureController::currentProgress, this,
            [this](qint64 done, qint64 total) {
                m_progress->setRange(0, int(total));
                m_progress->setValue(int(done));
            });
    connect(m_controller, &LlmMeasureController::sweepPoint, this,
            [this](const LlmPoint& point, int index, int count) {
                m_history->add(point);
                m_sweepProgress->setRange(0, count);
                m_sweepProgress->setValue(index + 1);
            });
    connect(m_controller, &LlmMeasureController::sweepFinished, this, [this](bool completed) {
        m_sweepButton->setEnabled(true);
        m_cancelButton->setEnabled(false);
        emit message(completed ? tr("Sweep finished") : tr("Sweep stopped"));
    });
    connect(m_controller, &LlmMeasureController::generationChanged, m_generation,
            [this](const LlmGeneration& g) {
                m_generation->showGeneration(g);
                if (g.final) m_generation->setRunning(false);
                if (g.final && !g.deviceNote.isEmpty()) emit message(g.deviceNote);
            });
    connect(m_controller, &LlmMeasureController::failed, this, [this](const QString& text) {
        m_generation->setRunning(false);
        emit message(text);
    });
    connect(m_controller, &LlmMeasureController::textChanged, this,
            [this](const QString& path, int tokens) {
                const QString name = path.isEmpty() ? tr("the Book of Revelation (bundled)")
                                                    : QFileInfo(path).fileName();
                m_text->setText(tr("Text: %1, %2 tokens").arg(name).arg(tokens));
                m_text->setToolTip(path);
            });
    connect(m_history, &LlmHistory::changed, this, &LlmMeasurePage::refreshPlots);
}

LlmMeasurePage::~LlmMeasurePage() = default;

void LlmMeasurePage::buildUi() {
    m_text = new QLabel(tr("Text: the Book of Revelation (bundled)"), this);
    m_openText = new QPushButton(tr("Open text…"), this);
    m_openText->setToolTip(tr("Measure perplexity on a UTF-8 text file of your own"));
    m_bundledText = new QPushButton(tr("Bundled text"), this);
    m_bundledText->setToolTip(tr("The Book of Revelation (KJV), which the models here never saw"));
    m_chunks = new QSpinBox(this);
    m_chunks->setRange(0, 100000);
    m_chunks->setSpecialValueText(tr("all"));
    m_chunks->setPrefix(tr("chunks: "));
    m_chunks->setToolTip(tr("Score at most this many chunks of 256 tokens (all: the whole text)"));
    m_perplexity = new QLabel(tr("Perplexity: no language model open"), this);
    m_perplexity->setObjectName("llmPerplexity");
    m_perplexity->setTextFormat(Qt::RichText);
    m_kl = new QLabel(this);
    m_speed = new QLabel(this);
    m_progress = new QProgressBar(this);
    m_progress->setMaximumWidth(160);
    m_progress->setFormat(tr("%v / %m chunks"));

    m_sweepKind = new QComboBox(this);
    m_sweepKind->addItems(
        {tr("α (quantization step)"), tr("ρ (pruning threshold)"), tr("block formats")});
    m_sweepValues = new QLineEdit(this);
    m_sweepValues->setObjectName("llmSweepValues");
    m_sweepValues->setToolTip(tr("Values or llama.cpp formats to try, separated by spaces"));
    m_sweepButton = new QPushButton(tr("Run sweep"), this);
    m_cancelButton = new QPushButton(tr("Cancel"), this);
    m_cancelButton->setEnabled(false);
    m_sweepProgress = new QProgressBar(this);
    m_sweepProgress->setMaximumWidth(120);
    m_sweepProgress->setFormat(tr("%v / %m"));
    m_exportCsv = new QPushButton(tr("Export CSV…"), this);
    m_exportPlots = new QPushButton(tr("Export plots…"), this);

    m_curve = new LlmCurvePlot(this);
    m_pareto = new ParetoPlot(this);
    m_pareto->setValueAxis(tr("Perplexity vs size (everything tried)"), tr("perplexity"), false);
    m_pareto->setSizeUnit(1 << 20, tr("MiB"));
    m_pareto->clearData(tr("no language model open"));
    m_generation = new GenerationPanel(this);

    auto* textRow = new QHBoxLayout;
    textRow->addWidget(m_text, 1);
    textRow->addWidget(m_chunks);
    textRow->addWidget(m_openText);
    textRow->addWidget(m_bundledText);
    auto* figures = new QGridLayout;
    figures->addWidget(m_perplexity, 0, 0);
    figures->addWidget(m_progress, 0, 1);
    figures->addWidget(m_kl, 1, 0, 1, 2);
    figures->addWidget(m_speed, 2, 0, 1, 2);
    figures->setColumnStretch(0, 1);
    auto* sweepRow = new QHBoxLayout;
    sweepRow->addWidget(new QLabel(tr("Sweep:"), this));
    sweepRow->addWidget(m_sweepKind);
    sweepRow->addWidget(m_sweepValues, 1);
    sweepRow->addWidget(m_sweepButton);
    sweepRow->addWidget(m_cancelButton);
    sweepRow->addWidget(m_sweepProgress);
    sweepRow->addWidget(m_exportCsv);
    sweepRow->addWidget(m_exportPlots);

    auto* plotRow = new QSplitter(Qt::Horizontal, this);
    plotRow->addWidget(m_curve);
    plotRow->addWidget(m_pareto);
    m_rows = new QSplitter(Qt::Vertical, this);
    m_rows->setObjectName("llmRows");
    m_rows->addWidget(plotRow);
    m_rows->addWidget(m_generation);
    m_rows->setStretchFactor(0, 3);
    m_rows->setStretchFactor(1, 1);
    m_rows->setChildrenCollapsible(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(textRow);
    layout->addLayout(figures);
    layout->addLayout(sweepRow);
    layout->addWidget(m_rows, 1);

    connect(m_openText, &QPushButton::clicked, this, &LlmMeasurePage::openTextFile);
    connect(m_bundledText, &QPushButton::clicked, this, [this] {
        LlmPageChoices next = m_choices;
        next.textFile.clear();
        editChoices(next, tr("Evaluation text"));
    });
    connect(m_chunks, &QSpinBox::valueChanged, this, [this](int n) {
        if (n == m_choices.maxChunks) return;
        LlmPageChoices next = m_choices;
        next.maxChunks = n;
        editChoices(next, tr("Chunks scored"));
    });
    connect(m_sweepKind, &QComboBox::activated, this, [this](int index) {
        LlmPageChoices next = m_choices;
        next.sweepKind = LlmSweepKind(index);
        editChoices(next, tr("Sweep parameter"));
    });
    connect(m_sweepValues, &QLineEdit::editingFinished, this, [this] {
        if (m_sweepValues->text() == sweepText()) return;
        LlmPageChoices next = m_choices;
        QString& values = next.sweepKind == LlmSweepKind::Alpha ? next.alphaValues
                          : next.sweepKind == LlmSweepKind::Rho ? next.rhoValues
                                                                : next.formats;
        values = m_sweepValues->text();
        editChoices(next, tr("Sweep values"));
    });
    connect(m_sweepButton, &QPushButton::clicked, this, &LlmMeasurePage::startSweep);
    connect(m_cancelButton, &QPushButton::clicked, m_controller,
            &LlmMeasureController::cancelSweep);
    connect(m_exportCsv, &QPushButton::clicked, this, [this] {
        exportCsvInteractive(
            this, tr("Export measured settings"), QStringLiteral("llm-settings.csv"),
            [this](const QString& path, QString* error) { return writeCsv(path, error); });
    });
    connect(m_exportPlots, &QPushButton::clicked, this,
            [this] { exportPlotsInteractive(this, plots()); });
    connect(m_generation, &GenerationPanel::generateRequested, this,
            [this](const QString& prompt, int tokens) {
                m_generation->setRunning(true);
                m_controller->generate(prompt, tokens);
            });
    connect(m_generation, &GenerationPanel::cancelRequested, this, [this] {
        m_controller->cancelGeneration();
        m_generation->setRunning(false);
    });
    connect(m_generation, &GenerationPanel::promptChanged, this,
            [this](const QString& prompt, int tokens) {
                if (prompt == m_choices.prompt && tokens == m_choices.tokens) return;
                LlmPageChoices next = m_choices;
                next.prompt = prompt;
                next.tokens = tokens;
                editChoices(next, tr("Prompt"));
            });
}

QList<PlotBase*> LlmMeasurePage::plots() const { return {m_curve, m_pareto}; }

QString LlmMeasurePage::sweepText() const {
    switch (m_choices.sweepKind) {
        case LlmSweepKind::Alpha:
            return m_choices.alphaValues;
        case LlmSweepKind::Rho:
            return m_choices.rhoValues;
        case LlmSweepKind::Formats:
            return m_choices.formats;
    }
    return {};
}

void LlmMeasurePage::showChoices() {
    const QSignalBlocker b1(m_chunks), b2(m_sweepKind), b3(m_generation);
    m_chunks->setValue(m_choices.maxChunks);
    m_sweepKind->setCurrentIndex(int(m_choices.sweepKind));
    m_sweepValues->setText(sweepText());
    m_sweepValues->setCursorPosition(0);  // the list's start in view, not its end
    m_generation->setPrompt(m_choices.prompt);
    m_generation->setTokens(m_choices.tokens);
    refreshPlots();
}

void LlmMeasurePage::editChoices(const LlmPageChoices& next, const QString& what) {
    if (next == m_choices) return;
    if (m_undo)
        m_undo->push(new ChoicesCommand(this, m_choices, next, what));  // redo() applies it
    else
        applyChoices(next);
}

void LlmMeasurePage::applyChoices(const LlmPageChoices& next) {
    const LlmPageChoices before = m_choices;
    m_choices = next;
    if (next.textFile != before.textFile) {
        QString error;
        if (!m_controller->setTextFile(next.textFile, &error)) {
            m_choices.textFile = before.textFile;
            emit message(error);
        } else {
            m_history->clear();  // perplexities of another text are not comparable
            m_hasCurrent = m_hasBaseline = false;
        }
    }
    if (next.maxChunks != before.maxChunks) {
        m_controller->setMaxChunks(next.maxChunks);
        m_history->clear();
        m_hasCurrent = m_hasBaseline = false;
    }
    showChoices();
    saveChoices();
}

void LlmMeasurePage::saveChoices() const {
    QSettings s;
    s.beginGroup(kGroup);
    s.setValue("textFile", m_choices.textFile);
    s.setValue("sweepKind", int(m_choices.sweepKind));
    s.setValue("sweepAlpha", m_choices.alphaValues);
    s.setValue("sweepRho", m_choices.rhoValues);
    s.setValue("sweepFormats", m_choices.formats);
    s.setValue("prompt", m_choices.prompt);
    s.setValue("tokens", m_choices.tokens);
    s.setValue("maxChunks", m_choices.maxChunks);
}

void LlmMeasurePage::openTextFile() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open evaluation text"), {},
                                                      tr("Text (*.txt);;All files (*)"));
    if (path.isEmpty()) return;
    LlmPageChoices next = m_choices;
    next.textFile = path;
    editChoices(next, tr("Evaluation text"));
}

void LlmMeasurePage::setModel(std::shared_ptr<const LlamaCheckpoint> checkpoint,
                              std::shared_ptr<const Tokenizer> tokenizer) {
    m_history->clear();
    m_hasCurrent = m_hasBaseline = false;
    m_generation->clear();
    const bool open = checkpoint && tokenizer;
    m_checkpoint = std::move(checkpoint);
    m_tokenizer = std::move(tokenizer);
    m_modelPending = true;
    m_curve->clearData(open ? tr("measuring…") : tr("no language model open"));
    m_pareto->clearData(open ? tr("measuring…") : tr("no language model open"));
    if (m_active) catchUp();
    showCurrentFigures();
}

void LlmMeasurePage::setCompression(const LlmCompression& compression) {
    if (sameCompression(compression, m_compression) && m_hasCurrent) return;
    m_compression = compression;
    m_hasCurrent = false;
    const int known = m_history->indexOf(compression);
    if (known >= 0 && m_history->points()[known].final) {
        m_current = m_history->points()[known];  // measured before: shown at once
        m_hasCurrent = true;
    }
    m_compressionPending = true;
    if (m_active) catchUp();
    showCurrentFigures();
    refreshPlots();
}

void LlmMeasurePage::setActive(bool active) {
    m_active = active;
    if (active) catchUp();
}

void LlmMeasurePage::catchUp() {
    if (m_compressionPending) m_controller->requestCompression(m_compression);
    if (m_modelPending) m_controller->setModel(m_checkpoint, m_tokenizer);
    m_compressionPending = m_modelPending = false;
}

bool LlmMeasurePage::sweepRequest(LlmSweepRequest& request, QString* error) const {
    request = {};
    request.kind = m_choices.sweepKind;
    request.base = m_compression;
    const QStringList words =
        sweepText().split(QRegularExpression(QStringLiteral("[,;\\s]+")), Qt::SkipEmptyParts);
    for (const QString& word : words) {
        if (request.kind == LlmSweepKind::Formats) {
            DType type;
            if (!parseDType(word.toUpper().toStdString(), type) || !dtypeIsBlock(type) ||
                !quant::isWeightType(type) || type == DType::Q8_K) {
                if (error)
                    *error = tr("\"%1\" is not a llama.cpp weight format (Q8_0 … Q2_K)").arg(word);
                return false;
            }
            request.formats.push_back(type);
        } else {
            bool ok = false;
            const double v = word.toDouble(&ok);
            if (!ok || v <= 0 || v > 1e6) {
                if (error) *error = tr("\"%1\" is not a positive number").arg(word);
                return false;
            }
            request.values.push_back(v);
        }
    }
    if (request.values.empty() && request.formats.empty()) {
        if (error) *error = tr("Give the values to sweep, separated by spaces");
        return false;
    }
    return true;
}

void LlmMeasurePage::startSweep() {
    if (m_sweepValues->text() != sweepText()) emit m_sweepValues->editingFinished();
    LlmSweepRequest request;
    QString error;
    if (!sweepRequest(request, &error)) {
        emit message(error);
        return;
    }
    if (!m_controller->hasModel()) return;
    m_sweepButton->setEnabled(false);
    m_cancelButton->setEnabled(true);
    m_sweepProgress->setRange(0, int(request.values.size() + request.formats.size()));
    m_sweepProgress->setValue(0);
    m_controller->startSweep(request);
}

void LlmMeasurePage::onBaseline(const LlmPoint& point) {
    if (!point.deviceNote.isEmpty()) emit message(point.deviceNote);
    m_baseline = point;
    m_hasBaseline = true;
    m_history->add(point);
    m_pareto->setFloatSize(point.sizeBytes);
    showCurrentFigures();
}

void LlmMeasurePage::onCurrent(const LlmPoint& point) {
    if (!sameCompression(point.compression, m_compression) &&
        !(point.original && changesNothing(m_compression)))
        return;
    m_current = point;
    m_hasCurrent = true;
    if (point.final) m_history->add(point);
    if (point.final && !point.deviceNote.isEmpty()) emit message(point.deviceNote);
    showCurrentFigures();
    refreshPlots();
}

void LlmMeasurePage::showCurrentFigures() {
    if (!m_checkpoint || !m_tokenizer) {
        m_perplexity->setText(tr("Perplexity: no language model open"));
        m_kl->clear();
        m_speed->clear();
        return;
    }
    const QString base = m_hasBaseline
                             ? tr(" · original %1").arg(m_baseline.stats.perplexity, 0, 'f', 2)
                             : QString();
    if (!m_hasCurrent || m_current.stats.chunks == 0) {
        m_perplexity->setText(tr("<b>%1</b>: measuring perplexity…%2")
                                  .arg(describeCompression(m_compression).toHtmlEscaped(), base));
        m_kl->clear();
        m_speed->clear();
        return;
    }
    const PerplexityStats& s = m_current.stats;
    const QString partial = m_current.final
                                ? QString()
                                : tr(" (so far, %1 of %2 chunks)").arg(s.chunks).arg(s.totalChunks);
    m_perplexity->setText(tr("<b>%1</b>: perplexity <b>%2</b> ± %3 (95 %: %4 to %5)%6%7")
                              .arg(describeCompression(m_current.compression).toHtmlEscaped())
                              .arg(s.perplexity, 0, 'f', 2)
                              .arg(s.perplexityError, 0, 'f', 2)
                              .arg(s.low, 0, 'f', 2)
                              .arg(s.high, 0, 'f', 2)
                              .arg(partial, base));
    QString kl = tr("%1 bits/weight · %2")
                     .arg(m_current.bitsPerWeight, 0, 'f', 2)
                     .arg(mib(m_current.sizeBytes));
    if (s.hasKl)
        kl += tr(" · KL from original %1 ± %2 · same top token %3 % ± %4 %")
                  .arg(s.meanKl, 0, 'g', 4)
                  .arg(s.klError, 0, 'g', 2)
                  .arg(100 * s.sameTop, 0, 'f', 2)
                  .arg(100 * s.sameTopError, 0, 'f', 2);
    m_kl->setText(kl);
    auto speed = [](const LlmPoint& p) {
        return tr("prefill %1 tokens/s, generation %2 tokens/s")
            .arg(p.prefillTokensPerSecond, 0, 'f', 0)
            .arg(p.generateTokensPerSecond, 0, 'f', 1);
    };
    QString speedText;
    if (m_current.prefillTokensPerSecond > 0) speedText = tr("Speed: ") + speed(m_current);
    if (m_hasBaseline && m_baseline.prefillTokensPerSecond > 0 && !m_current.original)
        speedText += tr(" (original: %1)").arg(speed(m_baseline));
    m_speed->setText(speedText);
}

void LlmMeasurePage::refreshPlots() {
    if (!m_checkpoint || !m_tokenizer) return;
    const QVector<LlmPoint>& points = m_history->points();
    // The curve: every point on the swept axis around the current compression.
    QVector<LlmCurvePoint> curve;
    for (const LlmPoint& p : points) {
        const auto x = curveX(p.compression, p.bitsPerWeight, m_choices.sweepKind, m_compression);
        if (!x) continue;
        LlmCurvePoint c;
        c.x = *x;
        c.perplexity = p.stats.perplexity;
        c.kl = p.stats.hasKl ? p.stats.meanKl : -1;
        c.label = p.compression.format ? QString::fromStdString(dtypeName(*p.compression.format))
                                       : QString();
        curve.append(c);
    }
    m_curve->setCurve(curve, axisOf(m_choices.sweepKind));
    m_curve->setBaseline(m_hasBaseline ? m_baseline.stats.perplexity : -1);
    LlmCurrentPoint current;
    if (m_hasCurrent && m_current.stats.chunks > 0) {
        const auto x = curveX(m_current.compression, m_current.bitsPerWeight, m_choices.sweepKind,
                              m_compression);
        current.valid = x.has_value();
        current.x = x.value_or(0);
        current.perplexity = m_current.stats.perplexity;
        current.low = m_current.stats.low;
        current.high = m_current.stats.high;
        current.chunks = m_current.stats.chunks;
        current.totalChunks = m_current.stats.totalChunks;
    }
    m_curve->setCurrent(current);
    if (curve.isEmpty() && !current.valid)
        m_curve->setMessage(points.isEmpty() ? tr("measuring…")
                                             : tr("nothing on this axis yet: run a sweep"));

    ParetoSeries series;
    for (const LlmPoint& p : points) {
        series.sizes.append(p.sizeBytes);
        series.values.append(p.stats.perplexity);
    }
    series.front = m_history->paretoFront();
    series.current = m_history->indexOf(m_compression);
    if (!points.isEmpty()) m_pareto->setSeries(series);
}

}  // namespace cwb::ui
