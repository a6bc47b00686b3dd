// Accuracy and speed of a language model in the window: the lanes behind the language-model
// measurement page, in the pattern of RecomputeController (latest-wins lanes, a generation
// counter per request, results applied on the GUI thread only while current).
//
// Lanes:
//   baseline  the model as stored, once per model and text (it also records the original's
//             log-probabilities, so the KL of every later run needs no second forward pass)
//   current   the newest compression: perplexity chunk by chunk, KL, same top token, speed
//   sweep     α, ρ or a list of block formats, point by point
//   generate  a greedy continuation of a prompt by the original and the compressed model
// The first three take turns on one measuring thread, so measured speeds stay clean.
#pragma once

#include <QObject>
#include <QStringList>
#include <QThreadPool>
#include <QTimer>
#include <memory>
#include <vector>

#include "ui/worker/latest_wins_lane.h"
#include "ui/worker/llm_measure_job.h"

namespace cwb::ui {

enum class LlmSweepKind { Alpha, Rho, Formats };

struct LlmSweepRequest {
    LlmSweepKind kind = LlmSweepKind::Alpha;
    std::vector<double> values;  // Alpha, Rho
    std::vector<DType> formats;  // Formats
    LlmCompression base;         // the other settings of every point
};

// The compression of each point of a sweep.
std::vector<LlmCompression> sweepCompressions(const LlmSweepRequest& request);

struct LlmGeneration {
    QString prompt;
    QString original, compressed;  // the continuations so far
    QString compressionLabel;
    double originalTokensPerSecond = 0, compressedTokensPerSecond = 0;
    QString deviceNote;  // where the chosen device could not run it (see onDevice)
    bool final = false;
};

struct LlmWeightsCache;

class LlmMeasureController : public QObject {
    Q_OBJECT
public:
    explicit LlmMeasureController(QObject* parent = nullptr);
    ~LlmMeasureController() override;

    // A new model (null: none): everything running stops, the baseline follows.
    void setModel(std::shared_ptr<const LlamaCheckpoint> checkpoint,
                  std::shared_ptr<const Tokenizer> tokenizer);
    // The evaluation text (empty: the bundled Book of Revelation). False with `error` filled
    // when the file cannot be read or is shorter than one chunk; the old text stays.
    bool setTextFile(const QString& path, QString* error = nullptr);
    QString textFile() const { return m_textPath; }
    // At most this many chunks of the text per run (0: all), for very large models and tests.
    void setMaxChunks(int chunks);
    void setThreads(int threads) { m_threads = threads; }
    // Where perplexity, speed and generation run (the window's Device choice; null: the
    // CPU). A change measures everything again there.
    void setBackend(Backend* backend);
    Backend* backend() const { return m_backend; }
    void setMeasureSpeed(bool on) { m_options.speed = on; }
    void setCoalesceMs(int ms) { m_coalesce.setInterval(ms); }

    // The newest compression; its measurement follows (latest wins).
    void requestCompression(const LlmCompression& compression);
    const LlmCompression& compression() const { return m_compression; }

    void startSweep(const LlmSweepRequest& request);
    void cancelSweep();
    bool isSweeping() const { return !m_sweep.isIdle(); }

    // Greedy continuation of `prompt` by `tokens` tokens, by the original and by the newest
    // compression.
    void generate(const QString& prompt, int tokens);
    void cancelGeneration();

    bool hasModel() const { return static_cast<bool>(m_eval); }
    std::shared_ptr<const LlmEvalContext> evalContext() const { return m_eval; }
    bool isIdle() const;
    LatestWinsLane& currentLane() { return m_current; }
    LatestWinsLane& sweepLane() { return m_sweep; }
    LatestWinsLane& generateLane() { return m_generate; }

signals:
    void baselineMeasured(const LlmPoint& point);
    // Running figures of the newest compression (final once done).
    void currentChanged(const LlmPoint& point);
    void currentProgress(qint64 done, qint64 total);
    void sweepPoint(const LlmPoint& point, int index, int count);
    void sweepProgress(qint64 done, qint64 total);
    void sweepFinished(bool completed);
    void generationChanged(const LlmGeneration& generation);
    void failed(const QString& message);
    void busyChanged(bool busy);
    void textChanged(const QString& path, int tokens);

private:
    void submitBaseline();
    void submitCurrent();
    void restart();
    void updateBusy();

    QTimer m_coalesce;
    QThreadPool m_measurePool;
    LatestWinsLane m_baseline{QStringLiteral("llm baseline"), &m_measurePool};
    LatestWinsLane m_current{QStringLiteral("llm current"), &m_measurePool};
    LatestWinsLane m_sweep{QStringLiteral("llm sweep"), &m_measurePool};
    LatestWinsLane m_generate{QStringLiteral("llm generate")};
    std::shared_ptr<const LlamaCheckpoint> m_checkpoint;
    std::shared_ptr<const Tokenizer> m_tokenizer;
    std::shared_ptr<const LlmEvalContext> m_eval;
    QString m_textPath;
    QString m_text;  // the text's content
    int m_maxChunks = 0;
    int m_threads = 0;
    Backend* m_backend = nullptr;
    LlmMeasureOptions m_options;
    LlmCompression m_compression;
    LlmPoint m_baselinePoint;
    bool m_hasBaseline = false;
    std::shared_ptr<LlmWeightsCache> m_cache;
    int m_sweepCount = 0;
    bool m_busy = false;
};

}  // namespace cwb::ui

Q_DECLARE_METATYPE(cwb::ui::LlmGeneration)
