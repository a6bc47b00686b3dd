// --screenshot: shows the window at a fixed size, loads the model, applies the requested
// settings, waits until the worker has delivered every result (histograms, accuracy,
// baseline, optionally a sweep), then saves the window as PNG and quits with 0, or with
// a non-zero code and one line on stderr on failure or timeout.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QSize>
#include <QString>
#include <optional>

namespace cwb::ui {

class MainWindow;

struct ScreenshotOptions {
    QString file;
    QString model;  // empty: the bundled default
    std::optional<double> alpha, rho;
    std::optional<int> bits;
    QString layer;   // a Keras layer, or a language model's tensor
    QString format;  // a language model: a llama.cpp block format ("Q4_K")
    QString scope;   // with format: "blocks" or "all"
    bool sweep = false;
    // "compression" (default) or "distillation"; a language model: "tensors" (default) or
    // "table" (the whole-model table, computed first), "measure" (perplexity and speed, measured
    // first)
    QString tab;
    bool train = false;  // train a student first (distillation)
    int epochs = 1;
    int timeoutMs = 180000;
    QSize size{1280, 800};
};

class ScreenshotRunner : public QObject {
    Q_OBJECT
public:
    ScreenshotRunner(MainWindow* window, ScreenshotOptions options, QObject* parent = nullptr);
    void start();

private:
    enum class Stage { Loading, Settling, Sweeping, Training, Table, Generating, Done };
    void pollLlm();
    void poll();
    void applyOptions();
    void finish(int code, const QString& message);
    bool save();

    MainWindow* m_window;
    ScreenshotOptions m_options;
    Stage m_stage = Stage::Loading;
    QElapsedTimer m_clock;
    int m_idlePolls = 0;
};

}  // namespace cwb::ui
