// Opening language-model checkpoints and following the settings for them (see llm_controller.h).
#include "ui/worker/llm_controller.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/backend/backend.h"
#include "core/error.h"
#include "core/io/llama_checkpoint.h"
#include "core/llm/checkpoint_tokenizer.h"
#include "core/stats/row_comparison.h"

namespace cwb::ui {

namespace {

// The browser's figures for a large tensor come from about this many values.
constexpr qint64 kFigureElements = 1 << 18;

// A role's tensor as a matrix: 2-D tensors as they are, 1-D ones (norms) as one row.
Tensor matrixOf(const LlamaTensorRole& role) {
    const Tensor& t = *role.tensor;
    if (t.shape().size() == 2) return t;
    return Tensor::fromFloats({1, t.elements()}, t.toFloatVector());
}

// Whole rows, evenly spaced, that hold about `elements` values; 0 = every row.
std::int64_t sampleRowsFor(const Tensor& matrix, qint64 elements) {
    if (elements <= 0 || matrix.elements() <= elements) return 0;
    return std::max<std::int64_t>(1, elements / matrix.shape()[1]);
}

double storedBits(DType type) { return 8.0 * double(dtypeStorageBytes(type, 256)) / 256.0; }

HistogramSpec symmetric(double bound, int bins) {
    const double m = (bound > 0.0 && std::isfinite(bound) ? bound : 1.0) * (1.0 + 1e-6);
    return {bins, -m, m};
}

}  // namespace

std::shared_ptr<const LlmSession> loadLlmSession(const QString& path, const JobContext* context) {
    QElapsedTimer timer;
    timer.start();
    auto s = std::make_shared<LlmSession>();
    s->path = QFileInfo(path).absoluteFilePath();
    auto checkpoint = std::make_shared<LlamaCheckpoint>(openLlamaCheckpoint(path.toStdString()));
    if (context) context->checkCancelled();
    try {
        s->tokenizer = std::shared_ptr<const Tokenizer>(loadCheckpointTokenizer(*checkpoint));
    } catch (const Error& e) {
        s->tokenizerMessage = QString::fromStdString(e.what());
    }
    s->info = describeCheckpoint(*checkpoint);
    s->roles = llamaTensorRoles(*checkpoint);
    s->checkpoint = std::move(checkpoint);
    s->loadSeconds = timer.elapsed() / 1000.0;
    return s;
}

LlmTensorView computeTensorView(const LlmSession& session, const QList<int>& roles,
                                const WorkbenchSettings& settings, qint64 sampleElements,
                                const Progress& progress, Backend* backend) {
    QElapsedTimer timer;
    timer.start();
    LlmTensorView view;
    view.settings = settings;
    view.roles = roles;
    view.exact = true;
    const LlmCompression full = llmCompressionFor(settings);
    const LlmCompression none;
    const qint64 perTensor =
        sampleElements > 0
            ? std::max<qint64>(sampleElements / std::max<qsizetype>(1, roles.size()), 1)
            : 0;
    struct Item {
        const LlamaTensorRole* role;
        Tensor matrix;
        const LlmCompression* compression;
        LlmTensorOptions options;
    };
    std::vector<Item> items;
    for (int index : roles) {
        if (index < 0 || index >= int(session.roles.size())) continue;
        const LlamaTensorRole& role = session.roles[std::size_t(index)];
        Item item{&role, matrixOf(role), compressionApplies(role, full) ? &full : &none, {}};
        item.options.sampleRows = sampleRowsFor(item.matrix, perTensor);
        item.options.backend = backend;
        // Counting distinct float values sorts them: only where that is quick.
        item.options.stats.exactLevels = item.matrix.elements() <= (qint64(1) << 22);
        view.compressed = view.compressed || item.compression == &full;
        items.push_back(std::move(item));
    }
    if (items.empty()) throw Error("no tensor selected");
    // Several tensors share bin edges: their ranges first, without histograms.
    if (items.size() > 1) {
        double weightBound = 0.0, errorBound = 0.0;
        for (Item& item : items) {
            LlmTensorOptions plain = item.options;
            plain.stats.histograms = false;
            plain.stats.exactLevels = false;
            const LlmTensorReport r = compressLlmTensor(item.role->llamaName, item.matrix,
                                                        *item.compression, plain, progress);
            weightBound = std::max({weightBound, std::fabs(double(r.stats.minValue)),
                                    std::fabs(double(r.stats.maxValue))});
            errorBound = std::max(errorBound, r.stats.maxAbsError);
        }
        const int bins = StatsOptions{}.weights.bins;
        for (Item& item : items) {
            item.options.stats.weights = symmetric(weightBound, bins);
            item.options.stats.error =
                symmetric(errorBound > 0 ? errorBound : 1e-6 * std::max(weightBound, 1.0), bins);
        }
    }
    double bitSum = 0.0, elementSum = 0.0;
    for (std::size_t k = 0; k < items.size(); ++k) {
        Item& item = items[k];
        LlmTensorReport r = compressLlmTensor(item.role->llamaName, item.matrix, *item.compression,
                                              item.options, progress);
        const double bits =
            item.compression == &none ? storedBits(item.role->tensor->dtype()) : r.bitsPerWeight;
        bitSum += bits * double(item.role->tensor->elements());
        elementSum += double(item.role->tensor->elements());
        view.rowsMeasured += r.rowsMeasured;
        view.rowsTotal += item.matrix.shape()[0];
        if (r.rowsMeasured < item.matrix.shape()[0]) view.exact = false;
        if (items.size() == 1) view.blockLevels = std::move(r.blockLevels);
        addComparedStats(view.stats, r.stats, k == 0);
    }
    if (items.size() == 1) view.stats.role = "weights";
    view.bitsPerWeight = elementSum > 0 ? bitSum / elementSum : 0.0;
    view.seconds = timer.elapsed() / 1000.0;
    return view;
}

LlmController::LlmController(QObject* parent) : QObject(parent) {
    qRegisterMetaType<LlmTableRow>();
    qRegisterMetaType<LlmTensorFigures>();
    m_coalesce.setSingleShot(true);
    m_coalesce.setInterval(0);  // merges one event-loop burst; the pending slot merges the rest
    connect(&m_coalesce, &QTimer::timeout, this, &LlmController::submitTensor);
    connect(&m_load, &LatestWinsLane::failed, this, [this](const QString& message) {
        emit loadFailed(m_load.property("path").toString(), message);
    });
    connect(&m_tensor, &LatestWinsLane::failed, this, &LlmController::tensorFailed);
    connect(&m_figures, &LatestWinsLane::failed, this, &LlmController::tensorFailed);
    connect(&m_table, &LatestWinsLane::failed, this, [this](const QString& message) {
        emit tensorFailed(message);
        emit tableFinished(false, 0.0);
    });
    connect(&m_figures, &LatestWinsLane::progressChanged, this, &LlmController::figuresProgress);
    connect(&m_table, &LatestWinsLane::progressChanged, this, &LlmController::tableProgress);
    for (LatestWinsLane* lane : {&m_load, &m_tensor, &m_figures, &m_table})
        connect(lane, &LatestWinsLane::busyChanged, this, &LlmController::updateBusy);
}

LlmController::~LlmController() {
    for (LatestWinsLane* lane : {&m_load, &m_tensor, &m_figures, &m_table}) lane->cancel();
}

bool LlmController::isIdle() const {
    return !m_coalesce.isActive() && m_load.isIdle() && m_tensor.isIdle() && m_figures.isIdle() &&
           m_table.isIdle();
}

void LlmController::updateBusy() {
    const bool busy = !isIdle();
    if (busy != m_busy) {
        m_busy = busy;
        emit busyChanged(busy);
    }
}

void LlmController::openCheckpoint(const QString& path) {
    m_load.setProperty("path", path);
    emit loading(path);
    m_load.submit<std::shared_ptr<const LlmSession>>(
        [path](const JobContext& context) { return loadLlmSession(path, &context); },
        [this](std::shared_ptr<const LlmSession> session) {
            for (LatestWinsLane* lane : {&m_tensor, &m_figures, &m_table}) lane->cancel();
            m_session = std::move(session);
            m_view.reset();
            m_selection.clear();
            m_selectionLabel.clear();
            emit sessionChanged();
        });
}

void LlmController::close() {
    for (LatestWinsLane* lane : {&m_load, &m_tensor, &m_figures, &m_table}) lane->cancel();
    m_coalesce.stop();
    if (!m_session) return;
    m_session.reset();
    m_view.reset();
    emit sessionChanged();
}

void LlmController::requestSettings(const WorkbenchSettings& settings) {
    const bool differs = WorkbenchSettings::compressionDiffers(settings, m_settings);
    m_settings = settings;
    if (m_session && (differs || !m_view)) m_coalesce.start();
}

void LlmController::setBackend(Backend* backend) {
    if (backend == &cpuBackend()) backend = nullptr;
    if (backend == m_backend) return;
    m_backend = backend;
    if (m_session) m_coalesce.start();
}

void LlmController::setSelection(const QList<int>& roles, const QString& label) {
    m_selection = roles;
    m_selectionLabel = label;
    if (m_session) m_coalesce.start();
}

void LlmController::submitTensor() {
    m_coalesce.stop();
    m_figures.cancel();  // its settings may be stale; it follows the exact view
    if (!m_session || m_selection.isEmpty()) {
        if (m_session) submitFigures();
        return;
    }
    const auto session = m_session;
    const QList<int> roles = m_selection;
    const QString label = m_selectionLabel;
    const WorkbenchSettings settings = m_settings;
    const qint64 preview = m_previewElements;
    Backend* backend = m_backend;
    m_tensor.submit<std::shared_ptr<const LlmTensorView>>(
        [this, session, roles, label, settings, preview, backend](const JobContext& context) {
            qint64 elements = 0;
            for (int i : roles)
                if (i >= 0 && i < int(session->roles.size()))
                    elements += session->roles[std::size_t(i)].tensor->elements();
            if (preview > 0 && elements > preview) {
                auto sampled = std::make_shared<LlmTensorView>(computeTensorView(
                    *session, roles, settings, preview, context.progress, backend));
                sampled->label = label;
                context.post([this, sampled] {
                    m_view = sampled;
                    emit viewReady();
                });
            }
            auto exact = std::make_shared<LlmTensorView>(
                computeTensorView(*session, roles, settings, 0, context.progress, backend));
            exact->label = label;
            return std::shared_ptr<const LlmTensorView>(exact);
        },
        [this](std::shared_ptr<const LlmTensorView> view) {
            m_view = std::move(view);
            emit viewReady();
            submitFigures();
        });
}

void LlmController::submitFigures() {
    const auto session = m_session;
    const WorkbenchSettings settings = m_settings;
    Backend* backend = m_backend;
    m_figures.submit<bool>(
        [this, session, settings, backend](const JobContext& context) {
            const LlmCompression full = llmCompressionFor(settings);
            const LlmCompression none;
            QList<LlmTensorFigures> batch;
            QElapsedTimer sinceBatch;
            sinceBatch.start();
            const auto send = [&] {
                if (batch.isEmpty()) return;
                context.post([this, batch] { emit figuresReady(batch); });
                batch.clear();
                sinceBatch.restart();
            };
            const long long count = static_cast<long long>(session->roles.size());
            for (long long i = 0; i < count; ++i) {
                const LlamaTensorRole& role = session->roles[std::size_t(i)];
                LlmTensorFigures f;
                f.role = static_cast<int>(i);
                f.compressed = compressionApplies(role, full);
                if (!f.compressed) {
                    f.bitsPerWeight = storedBits(role.tensor->dtype());
                    f.sqnrDb = std::numeric_limits<double>::infinity();
                    batch << f;
                    continue;
                }
                const Tensor matrix = matrixOf(role);
                LlmTensorOptions options;
                options.stats.histograms = false;
                options.stats.exactLevels = false;
                options.sampleRows = sampleRowsFor(matrix, kFigureElements);
                options.backend = backend;
                const LlmTensorReport r =
                    compressLlmTensor(role.llamaName, matrix, full, options, {});
                context.progress.step(i + 1, count);
                f.bitsPerWeight = r.bitsPerWeight;
                f.sparsity = r.stats.sparsity;
                f.sqnrDb = r.stats.sqnrDb;
                f.sampled = options.sampleRows > 0;
                batch << f;
                if (sinceBatch.elapsed() > 100) send();
            }
            send();
            return true;
        },
        [](bool) {});
}

void LlmController::startTable(const std::vector<DType>& formats,
                               const std::optional<LayerSettings>& settings) {
    if (!m_session) return;
    const auto session = m_session;
    Backend* backend = m_backend;  // the Device box's: the GPU uploads each matrix once
    m_table.submit<double>(
        [this, session, formats, settings, backend](const JobContext& context) {
            QElapsedTimer timer;
            timer.start();
            // Progress counts values, so the bar moves with the bytes read.
            long long total = 0, done = 0;
            for (const LlamaTensorRole& role : session->roles)
                if (role.tensor->shape().size() == 2) total += role.tensor->elements();
            for (std::size_t i = 0; i < session->roles.size(); ++i) {
                const LlamaTensorRole& role = session->roles[i];
                if (role.tensor->shape().size() != 2) continue;
                const long long elements = role.tensor->elements();
                Progress inner;
                inner.callback = [&](long long d, long long t) {
                    return context.progress.callback(done + elements * d / std::max(1LL, t), total);
                };
                // A format whose blocks do not divide the rows leaves its cell empty (NaN).
                std::vector<LlmScheme> fitting;
                std::vector<int> column;  // the column of each measured scheme
                for (std::size_t k = 0; k < formats.size(); ++k)
                    if (role.tensor->shape()[1] % std::int64_t(dtypeBlockSize(formats[k])) == 0) {
                        fitting.push_back({formats[k], {}});
                        column.push_back(int(k));
                    }
                if (settings) {
                    fitting.push_back({std::nullopt, *settings});
                    column.push_back(int(formats.size()));
                }
                const std::vector<LlmSchemeCell> measured =
                    measureSchemes(*role.tensor, fitting, 0, inner, backend);
                LlmTableRow row;
                row.role = static_cast<int>(i);
                LlmSchemeCell empty;
                empty.sqnrDb = empty.bitsPerWeight = std::nan("");
                row.cells.assign(formats.size() + (settings ? 1 : 0), empty);
                for (std::size_t k = 0; k < measured.size(); ++k)
                    row.cells[std::size_t(column[k])] = measured[k];
                done += elements;
                context.post([this, row] { emit tableRow(row); });
            }
            return timer.elapsed() / 1000.0;
        },
        [this](double seconds) { emit tableFinished(true, seconds); });
}

void LlmController::cancelTable() {
    if (m_table.isIdle()) return;
    m_table.cancel();
    emit tableFinished(false, 0.0);
}

}  // namespace cwb::ui
