// The language-model measurement lanes (see llm_measure_controller.h).
#include "ui/worker/llm_measure_controller.h"

#include <QFile>
#include <QFileInfo>

#include "core/error.h"
#include "core/llm/generate.h"

// The bundled text lives in the ui library's resources; a static library's resources are
// registered by name (outside any namespace).
static void registerUiResources() { Q_INIT_RESOURCE(resources); }

namespace cwb::ui {

namespace {

const char* const kBundledText = ":/llm/eval_revelation.txt";

}  // namespace

// The compressed weights the newest current run measured, for generation to reuse.
struct LlmWeightsCache {
    std::mutex mutex;
    LlmCompression compression;
    std::shared_ptr<const LlamaWeights> weights;
};

std::vector<LlmCompression> sweepCompressions(const LlmSweepRequest& request) {
    std::vector<LlmCompression> out;
    if (request.kind == LlmSweepKind::Formats) {
        for (DType format : request.formats) {
            LlmCompression c;
            c.format = format;
            c.scope = request.base.scope;
            out.push_back(c);
        }
        return out;
    }
    for (double v : request.values) {
        LlmCompression c;
        c.settings = request.base.settings;  // a block format is replaced by the swept scheme
        if (request.kind == LlmSweepKind::Alpha) {
            clearBitWidth(c.settings.quant);
            c.settings.quant.alpha = static_cast<float>(v);
        } else {
            c.settings.prune.method = PruneMethod::Threshold;
            c.settings.prune.rho = static_cast<float>(v);
        }
        out.push_back(c);
    }
    return out;
}

LlmMeasureController::LlmMeasureController(QObject* parent)
    : QObject(parent), m_cache(std::make_shared<LlmWeightsCache>()) {
    registerUiResources();
    qRegisterMetaType<LlmPoint>();
    qRegisterMetaType<LlmGeneration>();
    m_measurePool.setMaxThreadCount(1);
    m_coalesce.setSingleShot(true);
    m_coalesce.setInterval(0);
    connect(&m_coalesce, &QTimer::timeout, this, &LlmMeasureController::submitCurrent);
    for (LatestWinsLane* lane : {&m_baseline, &m_current, &m_sweep, &m_generate}) {
        connect(lane, &LatestWinsLane::busyChanged, this, &LlmMeasureController::updateBusy);
        connect(lane, &LatestWinsLane::failed, this, &LlmMeasureController::failed);
    }
    connect(&m_current, &LatestWinsLane::progressChanged, this,
            &LlmMeasureController::currentProgress);
    connect(&m_sweep, &LatestWinsLane::progressChanged, this, &LlmMeasureController::sweepProgress);
    connect(&m_sweep, &LatestWinsLane::failed, this, [this] { emit sweepFinished(false); });
    setTextFile({});
}

LlmMeasureController::~LlmMeasureController() {
    for (LatestWinsLane* lane : {&m_baseline, &m_current, &m_sweep, &m_generate}) lane->cancel();
}

bool LlmMeasureController::isIdle() const {
    return !m_coalesce.isActive() && m_baseline.isIdle() && m_current.isIdle() &&
           m_sweep.isIdle() && m_generate.isIdle();
}

void LlmMeasureController::updateBusy() {
    const bool busy = !isIdle();
    if (busy == m_busy) return;
    m_busy = busy;
    emit busyChanged(busy);
}

void LlmMeasureController::setModel(std::shared_ptr<const LlamaCheckpoint> checkpoint,
                                    std::shared_ptr<const Tokenizer> tokenizer) {
    m_checkpoint = std::move(checkpoint);
    m_tokenizer = std::move(tokenizer);
    {
        std::lock_guard lock(m_cache->mutex);
        m_cache->weights.reset();
    }
    restart();
}

bool LlmMeasureController::setTextFile(const QString& path, QString* error) {
    QFile file(path.isEmpty() ? QString::fromLatin1(kBundledText) : path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error) *error = tr("%1: cannot read the text (%2)").arg(path, file.errorString());
        return false;
    }
    const QByteArray bytes = file.readAll();
    if (bytes.trimmed().isEmpty()) {
        if (error) *error = tr("%1: the text is empty; choose a text file").arg(path);
        return false;
    }
    m_textPath = path.isEmpty() ? QString() : QFileInfo(path).absoluteFilePath();
    m_text = QString::fromUtf8(bytes);
    restart();
    return true;
}

void LlmMeasureController::setMaxChunks(int chunks) {
    if (chunks == m_maxChunks) return;
    m_maxChunks = chunks;
    restart();
}

void LlmMeasureController::setBackend(Backend* backend) {
    if (backend == &cpuBackend()) backend = nullptr;
    if (backend == m_backend) return;
    m_backend = backend;
    restart();
}

// A new model, text, chunk limit or device: new figures for everything, nothing old kept
// running.
void LlmMeasureController::restart() {
    for (LatestWinsLane* lane : {&m_baseline, &m_current, &m_sweep, &m_generate}) lane->cancel();
    m_coalesce.stop();
    m_eval.reset();
    m_hasBaseline = false;
    if (!m_checkpoint || !m_tokenizer) return;
    auto eval = std::make_shared<LlmEvalContext>();
    eval->checkpoint = m_checkpoint;
    eval->tokenizer = m_tokenizer;
    eval->textPath = m_textPath;
    const std::vector<int> ids = m_tokenizer->encode(m_text.toStdString(), true);
    eval->tokens.assign(ids.begin(), ids.end());
    eval->maxChunks = m_maxChunks;
    eval->threads = m_threads;
    eval->backend = m_backend;
    if (static_cast<int>(eval->tokens.size()) < eval->context) {
        emit failed(tr("%1: the text gives %2 tokens, fewer than one chunk of %3; open a longer "
                       "text")
                        .arg(m_textPath.isEmpty() ? tr("the bundled text") : m_textPath)
                        .arg(eval->tokens.size())
                        .arg(eval->context));
        return;
    }
    m_eval = eval;
    emit textChanged(m_textPath, static_cast<int>(eval->tokens.size()));
    submitBaseline();
    submitCurrent();
}

void LlmMeasureController::submitBaseline() {
    if (!m_eval) return;
    const auto eval = m_eval;
    const LlmMeasureOptions options = m_options;
    m_baseline.submit<LlmPoint>(
        [eval, options](const JobContext& context) {
            return measureLlmPoint(*eval, LlmCompression{}, options, context.progress, {});
        },
        [this](LlmPoint point) {
            m_baselinePoint = point;
            m_hasBaseline = true;
            emit baselineMeasured(point);
            if (changesNothing(m_compression)) emit currentChanged(point);
        });
}

void LlmMeasureController::requestCompression(const LlmCompression& compression) {
    m_compression = compression;
    if (m_eval) m_coalesce.start();
}

void LlmMeasureController::submitCurrent() {
    m_coalesce.stop();
    if (!m_eval) return;
    if (changesNothing(m_compression)) {  // the baseline's figures: no second run
        m_current.cancel();
        if (m_hasBaseline) emit currentChanged(m_baselinePoint);
        return;
    }
    const auto eval = m_eval;
    const LlmMeasureOptions options = m_options;
    const LlmCompression compression = m_compression;
    m_current.submit<LlmPoint>(
        [this, eval, options, compression, cache = m_cache](const JobContext& context) {
            std::shared_ptr<const LlamaWeights> weights;
            LlmPoint point = measureLlmPoint(
                *eval, compression, options, context.progress,
                [&](const LlmPoint& partial) {
                    context.post([this, partial] { emit currentChanged(partial); });
                },
                &weights);
            std::lock_guard lock(cache->mutex);
            cache->compression = compression;
            cache->weights = std::move(weights);
            return point;
        },
        [this](LlmPoint point) { emit currentChanged(point); });
}

void LlmMeasureController::startSweep(const LlmSweepRequest& request) {
    const std::vector<LlmCompression> points = sweepCompressions(request);
    if (!m_eval || points.empty()) return;
    const auto eval = m_eval;
    LlmMeasureOptions options = m_options;
    options.speedPrompt = 32;  // each point's speed on a shorter run: a sweep has many
    options.speedGenerate = 8;
    m_sweepCount = static_cast<int>(points.size());
    m_sweep.submit<bool>(
        [this, eval, options, points](const JobContext& context) {
            const int count = static_cast<int>(points.size());
            for (int i = 0; i < count; ++i) {
                LlmPoint point = measureLlmPoint(*eval, points[static_cast<std::size_t>(i)],
                                                 options, context.progress, {});
                point.fromSweep = true;
                context.post([this, point, i, count] { emit sweepPoint(point, i, count); });
            }
            return true;
        },
        [this](bool) { emit sweepFinished(true); });
}

void LlmMeasureController::cancelSweep() {
    if (m_sweep.isIdle()) return;
    m_sweep.cancel();
    emit sweepFinished(false);
}

void LlmMeasureController::generate(const QString& prompt, int tokens) {
    if (!m_eval || prompt.trimmed().isEmpty()) return;
    const auto eval = m_eval;
    const LlmCompression compression = m_compression;
    const std::vector<int> ids = m_tokenizer->encode(prompt.toStdString(), true);
    const std::vector<std::int32_t> promptIds(ids.begin(), ids.end());
    m_generate.submit<LlmGeneration>(
        [this, eval, compression, promptIds, prompt, tokens,
         cache = m_cache](const JobContext& context) {
            const LlamaCheckpoint& checkpoint = *eval->checkpoint;
            const Tokenizer& tokenizer = *eval->tokenizer;
            std::shared_ptr<const LlamaWeights> compressed;
            {
                std::lock_guard lock(cache->mutex);
                if (cache->weights && sameCompression(cache->compression, compression))
                    compressed = cache->weights;
            }
            if (!compressed) {
                LlmCompressOptions quiet;
                quiet.threads = eval->threads;
                quiet.stats.histograms = false;
                quiet.backend = eval->backend;
                compressed = changesNothing(compression)
                                 ? std::make_shared<const LlamaWeights>(checkpoint.weights)
                                 : std::make_shared<const LlamaWeights>(
                                       compressLlama(checkpoint.config, checkpoint.weights,
                                                     compression, quiet, context.progress)
                                           .weights);
            }
            LlmGeneration g;
            g.prompt = prompt;
            g.compressionLabel = describeCompression(compression);
            GenerateOptions options;
            options.maxTokens = tokens;
            options.threads = eval->threads;
            if (tokenizer.eos() >= 0) options.stopTokens.push_back(tokenizer.eos());
            options.cancel = [&context] { return !context.isCurrent(); };
            for (const bool original : {true, false}) {
                QString& text = original ? g.original : g.compressed;
                // Bytes, decoded whole each time: a character may span several byte pieces.
                std::string bytes;
                int previous = promptIds.back();
                options.onToken = [&](std::int32_t id) {
                    bytes += tokenizer.tokenText(previous, id);
                    previous = id;
                    text = QString::fromUtf8(bytes);
                    context.post([this, g] { emit generationChanged(g); });
                };
                const GenerateResult r = onDevice(eval->backend, g.deviceNote, [&](Backend* b) {
                    bytes.clear();  // a run on the CPU after the device failed starts again
                    previous = promptIds.back();
                    text.clear();
                    options.backend = b;
                    return generateGreedy(checkpoint.config,
                                          original ? checkpoint.weights : *compressed, promptIds,
                                          options);
                });
                const double tps =
                    r.generateSeconds > 0 ? double(r.tokens.size()) / r.generateSeconds : 0.0;
                (original ? g.originalTokensPerSecond : g.compressedTokensPerSecond) = tps;
            }
            g.final = true;
            return g;
        },
        [this](LlmGeneration g) { emit generationChanged(g); });
}

void LlmMeasureController::cancelGeneration() { m_generate.cancel(); }

}  // namespace cwb::ui
