// The main window: wiring only (see main_window.h).
#include "ui/window/main_window.h"

#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QRegularExpression>
#include <QSettings>
#include <QShortcut>
#include <QSlider>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>
#include <cmath>

#include "core/io/llama_checkpoint.h"
#include "ui/llm/llm_format_panel.h"
#include "ui/llm/llm_mode.h"
#include "ui/llm/tensor_browser.h"
#include "ui/panels/controls_panel.h"
#include "ui/panels/layer_panel.h"
#include "ui/panels/log_slider.h"
#include "ui/panels/summary_panel.h"
#include "ui/window/app_icon.h"
#include "ui/window/app_paths.h"
#include "ui/window/compression_page.h"
#include "ui/window/device_choice.h"
#include "ui/window/distillation_page.h"
#include "ui/window/exporter.h"
#include "ui/window/recent_files.h"
#include "ui/window/status_line.h"
#include "ui/worker/distill_controller.h"
#include "ui/worker/llm_controller.h"
#include "ui/worker/model_saver.h"
#include "ui/worker/recompute_controller.h"

namespace cwb::ui {

namespace {
// Sweeps measure every image unless the model is heavy; then the first 2000 keep a sweep
// to seconds (the points record how many images they used).
int sweepLimitFor(const Model& model) { return model.flopsPerSample() > 2e6 ? 2000 : 0; }
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("Compression Workbench"));
    setWindowIcon(appIcon());
    setObjectName("mainWindow");
    setAcceptDrops(true);
    resize(1280, 800);

    m_settings = new SettingsOwner(this);
    m_controller = new RecomputeController(this);
    m_controller->setDatasetDir(datasetDir());
    m_history = new EvaluationHistory(this);

    m_tabs = new QTabWidget(this);
    m_tabs->setDocumentMode(true);
    m_page = new CompressionPage(m_tabs);
    m_tabs->addTab(m_page, tr("Compression"));
    m_distill = new DistillController(this);
    m_distill->setDatasetDir(datasetDir());
    m_distillPage = new DistillationPage(m_distill, m_settings, m_tabs);
    m_tabs->addTab(m_distillPage, tr("Distillation"));
    m_saver = new ModelSaver(this);
    m_tabs->setCornerWidget(m_page->logToggle(), Qt::TopRightCorner);
    m_central = new QStackedWidget(this);
    m_central->addWidget(m_tabs);
    m_llm = new LlmMode(m_settings, m_central);
    m_central->addWidget(m_llm->tabs());
    setCentralWidget(m_central);
    m_status = new StatusLine(statusBar());
    m_status->setModel(tr("No model"), {});
    buildDocks();
    buildMenus();
    connectWorker();
    connectLlm();
    connectLlmMeasure();
    connectDeviceBox(m_controls->deviceBox(), m_controller, m_status);
    m_page->clearAll(tr("Open a model with File \u25b8 Open (Ctrl+O) or drop one here"));
}

MainWindow::~MainWindow() = default;

void MainWindow::buildDocks() {
    m_controls = new ControlsPanel(this);
    m_summary = new SummaryPanel(this);
    auto* column = new QWidget(this);
    auto* columnLayout = new QVBoxLayout(column);
    columnLayout->setContentsMargins(6, 4, 6, 4);
    columnLayout->addWidget(m_controls);
    columnLayout->addWidget(m_llm->formatPanel());  // shown in the language-model mode
    columnLayout->addWidget(m_summary);
    columnLayout->addStretch(1);
    auto* controlsDock = new QDockWidget(tr("Controls"), this);
    controlsDock->setObjectName("controlsDock");
    controlsDock->setWidget(column);
    controlsDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, controlsDock);

    m_layers = new LayerPanel(this);
    m_layersDock = new QDockWidget(tr("Layers"), this);
    auto* layersDock = m_layersDock;
    layersDock->setObjectName("layersDock");
    // The tensor browser takes the layer table's place in the language-model mode.
    m_layerStack = new QStackedWidget(layersDock);
    m_layerStack->addWidget(m_layers);
    m_layerStack->addWidget(m_llm->browser());
    layersDock->setWidget(m_layerStack);
    layersDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                            QDockWidget::DockWidgetClosable);
    // The layer table gets the full width under everything: it has eight columns.
    setCorner(Qt::BottomLeftCorner, Qt::BottomDockWidgetArea);
    setCorner(Qt::BottomRightCorner, Qt::BottomDockWidgetArea);
    addDockWidget(Qt::BottomDockWidgetArea, layersDock);
    resizeDocks({controlsDock}, {330}, Qt::Horizontal);
    resizeDocks({layersDock}, {190}, Qt::Vertical);

    // The route of a slider move: panel -> settings owner -> controller -> core -> result
    // -> plots. The owner shows each change in every panel but the one that made it.
    m_settings->attach(m_controls);
    m_settings->attach(m_layers);
    connect(m_settings, &SettingsOwner::applied, this, &MainWindow::onSettingsApplied);
    connect(m_controls, &ControlsPanel::activeParameterChanged, this, [this] { refreshHistory(); });
    connect(m_controls, &ControlsPanel::sweepRequested, this, &MainWindow::startSweep);
    connect(m_controls, &ControlsPanel::sweepCancelRequested, m_controller,
            &RecomputeController::cancelSweep);
    connect(m_controls, &ControlsPanel::resetRequested, this, [this] {
        WorkbenchSettings reset;
        reset.distill = settings().distill;  // the distillation page has no reset
        m_settings->editAll(reset, tr("reset"));
    });
    connect(m_layers, &LayerPanel::layerSelected, this, &MainWindow::selectLayer);
    connect(m_page, &CompressionPage::logCountsToggled, this,
            [](bool on) { QSettings().setValue("logCounts", on); });
}

void MainWindow::connectWorker() {
    auto* c = m_controller;
    connect(c, &RecomputeController::modelLoading, this, [this](const QString& path) {
        m_status->setModel(tr("Loading %1\u2026").arg(QFileInfo(path).fileName()), path);
        m_controls->setModelReady(false, false);
    });
    connect(c, &RecomputeController::modelLoaded, this, &MainWindow::onModelLoaded);
    connect(c, &RecomputeController::modelFailed, this,
            [this](const QString& path, const QString& message) {
                const auto session = m_controller->session();
                m_status->setModel(session ? QFileInfo(session->path).fileName() : tr("No model"),
                                   {});
                m_controls->setModelReady(bool(session), session && session->canEvaluate());
                if (!session)
                    m_page->clearAll(tr("Could not open %1").arg(QFileInfo(path).fileName()));
                emit modelFailed(message);
                auto* box = new QMessageBox(QMessageBox::Warning, tr("Cannot open model"), message,
                                            QMessageBox::Ok, this);
                box->setAttribute(Qt::WA_DeleteOnClose);
                box->open();  // not exec(): the window keeps running
            });
    connect(c, &RecomputeController::compressed, this, &MainWindow::onCompressed);
    connect(c, &RecomputeController::compressFailed, this,
            [this](const QString& message) { statusBar()->showMessage(message, 8000); });
    connect(c, &RecomputeController::accuracyChanged, this, &MainWindow::onAccuracy);
    connect(c, &RecomputeController::kernelsChosen, m_layers, &LayerPanel::setKernelPaths);
    connect(c, &RecomputeController::sensitivityReady, this,
            [this](const WorkbenchSettings& s, const QMap<QString, double>& drops, int samples) {
                if (WorkbenchSettings::compressionDiffers(s, settings()))
                    return;  // settings moved on
                m_layers->setSensitivity(drops, samples);
            });
    connect(c, &RecomputeController::sensitivityProgress, m_status, &StatusLine::setProgress);
    connect(c, &RecomputeController::evaluated, this, [this](const EvaluatedPoint& point) {
        m_lastLatencyMs = point.latencyMs;
        m_summary->setLatency(point.latencyMs, point.engine);
        m_history->add(point);
    });
    connect(c, &RecomputeController::baselineEvaluated, this, [this](const EvaluatedPoint& point) {
        m_page->setBaseline(point);
        m_distillPage->setTeacherAccuracy(point.accuracy);
        m_summary->setBaseline(point);
        m_history->add(point);
    });
    connect(c, &RecomputeController::sweepPoint, this,
            [this](const EvaluatedPoint& point, int index, int count) {
                m_history->add(point);
                m_controls->setSweepState(index + 1 < count, index + 1, count);
            });
    connect(c, &RecomputeController::sweepFinished, this,
            [this](bool) { m_controls->setSweepState(false, 0, 0); });
    connect(c, &RecomputeController::busyChanged, m_status, &StatusLine::setBusy);
    connect(c, &RecomputeController::evaluationProgress, m_status, &StatusLine::setProgress);
    connect(c, &RecomputeController::sweepProgress, this, [this](qint64 done, qint64 total) {
        m_status->setProgress(done, total);
        m_controls->setSweepState(true, static_cast<int>(1000 * done / qMax<qint64>(1, total)),
                                  1000);
    });
    connect(m_history, &EvaluationHistory::changed, this, &MainWindow::refreshHistory);

    connect(m_distillPage, &DistillationPage::saveStudentRequested, this, [this] {
        if (!m_distill->student()) return;
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save student"), studentFileName(), tr("Keras model (*.h5)"));
        if (!path.isEmpty()) m_saver->save(m_distill->student(), path);
    });
    connect(m_distillPage, &DistillationPage::openStudentRequested, this, [this] {
        if (!m_distill->student()) return;
        const QString dir =
            QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/students";
        QDir().mkpath(dir);
        m_openAfterSave = dir + "/" + studentFileName();
        m_saver->save(m_distill->student(), m_openAfterSave);
    });
    connect(m_saver, &ModelSaver::saved, this, [this](const QString& path) {
        statusBar()->showMessage(tr("Saved %1").arg(QDir::toNativeSeparators(path)), 8000);
        if (path == m_openAfterSave) {
            m_openAfterSave.clear();
            m_tabs->setCurrentWidget(m_page);
            openModel(path);
        }
    });
    connect(m_saver, &ModelSaver::failed, this,
            [this](const QString& path, const QString& message) {
                m_openAfterSave.clear();
                QMessageBox::warning(this, tr("Save model"),
                                     tr("Could not save %1:\n%2").arg(path, message));
            });
}

void MainWindow::onModelLoaded() {
    m_llm->leave();
    const auto session = m_controller->session();
    const Model& model = *session->model;
    const QString name = QFileInfo(session->path).fileName();
    setWindowTitle(tr("%1 \u2014 Compression Workbench").arg(name));
    m_status->setModel(tr("%1: %2 layers, %L3 parameters")
                           .arg(name)
                           .arg(model.layers.size())
                           .arg(model.parameterCount()),
                       QString::fromStdString(model.format) + "\n" + session->path);
    if (session->testData)
        m_status->setDataset(tr("data: %1, %L2 images")
                                 .arg(QString::fromStdString(session->testData->name))
                                 .arg(session->testData->size()),
                             true);
    else
        m_status->setDataset(datasetInstallHint(), false);
    if (!model.evaluable)
        m_status->setDataset(
            tr("%1 cannot be run: %2").arg(name, QString::fromStdString(model.notEvaluableReason)),
            false);
    m_recent->add(session->path);
    QSettings().setValue("lastModel", session->path);
    m_history->clear();
    m_summary->clear();
    // Overrides name layers of the previous model; everything else carries over.
    WorkbenchSettings carried = settings();
    carried.plan.overrides.clear();
    carried.plan.onlyLayer.clear();
    m_layers->setModel(&model);
    m_page->clearAll(tr("compressing\u2026"));
    if (!session->canEvaluate())
        m_page->clearAccuracy(session->testData ? tr("this model cannot be run")
                                                : datasetInstallHint());
    m_controls->setModelReady(true, session->canEvaluate());
    m_distill->setTeacher(session);
    m_distillPage->teacherChanged(session->canEvaluate(),
                                  session->testData
                                      ? tr("%1 cannot be run, so it cannot teach").arg(name)
                                      : datasetInstallHint());
    m_firstResult = true;
    m_settings->load(carried);
}

void MainWindow::onSettingsApplied() {
    const WorkbenchSettings& s = settings();
    if (m_llm->isActive()) {  // the Keras model waits hidden; don't spend cores on it
        m_llm->settingsApplied(s);
        return;
    }
    if (!m_controller->result() ||
        WorkbenchSettings::evaluationDiffers(s, m_controller->resultSettings()))
        m_status->clearAccuracy(tr("accuracy: measuring\u2026"));
    m_controller->requestSettings(s);
    refreshHistory();
}

void MainWindow::selectLayer(const QString& name) {
    m_selectedLayer = name;
    m_layers->selectLayer(name);
    if (auto result = m_controller->result()) m_page->showResult(*result, name);
}

void MainWindow::onCompressed() {
    const auto result = m_controller->result();
    m_page->showResult(*result, m_selectedLayer);
    m_layers->setStats(result->layers, result->total);
    m_layers->setSensitivity({}, 0);  // measured for other settings
    m_summary->setCompression(result->total);
    const TensorStats& all = result->total.weights;
    m_controls->setSparsityReadout(tr("sparsity %1 % (%L2 of %L3 weights are 0)")
                                       .arg(all.sparsity * 100, 0, 'f', 1)
                                       .arg(all.zeros)
                                       .arg(all.elements));
    m_controls->setAlphaReadout(all.levels > 0 ? tr("%L1 distinct values, %2 bits, size \u00f7%3")
                                                     .arg(all.levels)
                                                     .arg(all.effectiveBits)
                                                     .arg(result->total.ratio, 0, 'f', 1)
                                               : QString());
    if (m_firstResult) {
        m_firstResult = false;
        emit modelReady();
    }
}

void MainWindow::onAccuracy(const AccuracyUpdate& update) {
    m_page->showAccuracy(update, m_controls->activeParameter());
    m_summary->setAccuracy(update);
    m_status->setAccuracy(update, update.final ? m_lastLatencyMs : 0.0);
}

void MainWindow::refreshHistory() {
    m_page->showHistory(*m_history, settings(), m_controls->activeParameter());
}

void MainWindow::startSweep(SweepParameter p) {
    const auto session = m_controller->session();
    const auto result = m_controller->result();
    if (!session || !result || !session->canEvaluate()) return;
    m_controls->setActiveParameter(p);
    const TensorStats& all = result->total.weights;
    const double maxAbs =
        std::max(std::fabs(double(all.minValue)), std::fabs(double(all.maxValue)));
    if (!(maxAbs > 0)) return;
    // alpha from ~2^11 levels down to 5; rho from pruning almost nothing to most weights.
    const std::vector<double> values = p == SweepParameter::Alpha
                                           ? logSpaced(maxAbs / 1024, maxAbs / 2, 12)
                                           : logSpaced(maxAbs / 1000, maxAbs / 2, 12);
    m_controls->setSweepState(true, 0, static_cast<int>(values.size()));
    m_controller->startSweep(p, values, sweepLimitFor(*session->model));
}

}  // namespace cwb::ui
