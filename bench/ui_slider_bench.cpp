// The window's slider loop on a model of a few million weights (an MLP 784-2048-1024-10,
// 3.7 M weights, written as a real Keras .h5 and opened by the window): time from a slider
// move to its histograms on display, and the GUI thread's own time per update (taking the
// result, filling the bars, replotting), against anchors measured in the same run: memcpy
// of the weights, and compressModel called directly. Medians of repeats.
#include <QApplication>
#include <QSlider>
#include <QTemporaryDir>
#include <QtTest/QSignalSpy>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <thread>

#include "bench/support/bench_util.h"
#include "core/compress/compress_model.h"
#include "core/io/keras_h5_writer.h"
#include "ui/panels/controls_panel.h"
#include "ui/panels/layer_panel.h"
#include "ui/panels/log_slider.h"
#include "ui/plots/error_histogram_plot.h"
#include "ui/plots/weight_histogram_plot.h"
#include "ui/window/compression_page.h"
#include "ui/window/main_window.h"
#include "ui/worker/recompute_controller.h"

using namespace cwb;
using namespace cwb::bench;
using Clock = std::chrono::steady_clock;

namespace {

// CPU time of the calling thread, ms: unlike wall time it does not grow when other
// processes take the cores.
double threadCpuMs() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

Layer dense(const std::string& name, int in, int out, ActivationKind act, std::mt19937& rng) {
    std::normal_distribution<float> dist(0.f, 1.f / std::sqrt(float(in)));
    std::vector<float> w(std::size_t(in) * out), b(std::size_t(out), 0.f);
    for (float& x : w) x = dist(rng);
    Layer l;
    l.name = name;
    l.className = "Dense";
    l.kind = LayerKind::Dense;
    l.units = out;
    l.activation = act;
    l.kernel = Tensor::fromFloats({in, out}, std::move(w));
    l.bias = Tensor::fromFloats({out}, std::move(b));
    return l;
}

Model bigMlp() {
    std::mt19937 rng(7);
    Model m;
    m.sourcePath = "synthetic";
    m.format = "synthetic";
    m.evaluable = true;
    m.inputShape = {28, 28};
    Layer flatten;
    flatten.name = "flatten";
    flatten.className = "Flatten";
    flatten.kind = LayerKind::Flatten;
    m.layers.push_back(flatten);
    m.layers.push_back(dense("dense", 784, 2048, ActivationKind::Relu, rng));
    m.layers.push_back(dense("dense_1", 2048, 1024, ActivationKind::Relu, rng));
    m.layers.push_back(dense("dense_2", 1024, 10, ActivationKind::Softmax, rng));
    m.inferShapes();
    return m;
}

}  // namespace

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QTemporaryDir dir;
    const Model model = bigMlp();
    long long weights = 0;
    for (const Layer& l : model.layers) weights += l.hasKernel() ? l.kernel.elements() : 0;
    const QString path = dir.filePath("mlp-3.7M.h5");
    saveKerasH5(model, path.toStdString());

    ui::MainWindow window;
    window.resize(1280, 800);
    window.show();
    QSignalSpy ready(&window, &ui::MainWindow::modelReady);
    window.openModel(path);
    if (!ready.wait(120000)) {
        std::fprintf(stderr, "model did not open\n");
        return 1;
    }
    ui::RecomputeController* c = window.controller();
    while (!c->isIdle()) QCoreApplication::processEvents(QEventLoop::AllEvents, 10);

    // GUI-thread time per delivered result: the window's handler and the replots it queued.
    // GUI-thread cost of showing one result, as the window's compressed() handler does it
    // (histograms into the bars, the layer table) plus an immediate replot of the two
    // histogram plots; wall and CPU time.
    std::vector<double> guiMs, guiCpuMs;
    auto showOnce = [&] {
        const auto t0 = Clock::now();
        const double cpu0 = threadCpuMs();
        const auto result = c->result();
        window.compressionPage()->showResult(*result, {});
        window.layers()->setStats(result->layers, result->total);
        window.compressionPage()->weightPlot()->replot(QCustomPlot::rpImmediateRefresh);
        window.compressionPage()->errorPlot()->replot(QCustomPlot::rpImmediateRefresh);
        guiMs.push_back(ms(t0, Clock::now()));
        guiCpuMs.push_back(threadCpuMs() - cpu0);
    };

    std::vector<double> moveToDisplay;
    QSlider* slider = window.controls()->alphaSlider()->slider();
    const int repeats = 21;
    for (int i = 0; i < repeats; ++i) {
        QSignalSpy compressed(c, &ui::RecomputeController::compressed);
        const auto t0 = Clock::now();
        slider->setValue(150 + (i % 2) * 60 + i);
        if (!compressed.wait(30000)) return 1;
        moveToDisplay.push_back(ms(t0, Clock::now()));
        showOnce();
        while (!c->isIdle())
            QCoreApplication::processEvents(QEventLoop::AllEvents, 10);  // accuracy too
    }

    // Anchors in the same run.
    std::vector<float> a(static_cast<std::size_t>(weights), 1.f),
        b(static_cast<std::size_t>(weights));
    std::vector<double> copyMs, coreMs;
    for (int i = 0; i < repeats; ++i) {
        auto t0 = Clock::now();
        std::memcpy(b.data(), a.data(), a.size() * sizeof(float));
        copyMs.push_back(ms(t0, Clock::now()));
        t0 = Clock::now();
        [[maybe_unused]] const CompressionResult r =
            compressModel(model, CompressionPlan::uniform(0.01f + 0.001f * i, 0.01f));
        coreMs.push_back(ms(t0, Clock::now()));
    }
    std::printf(
        "ui_slider_bench: %lld weights, %u hardware threads, load average %s, medians of %d\n",
        weights, std::thread::hardware_concurrency(), loadAverage().c_str(), repeats);
    std::printf("  slider move -> histograms delivered to the GUI thread : %8.2f ms\n",
                median(moveToDisplay));
    std::printf(
        "  GUI thread per shown result (bars, table, 2 replots)  : %8.2f ms wall, %.2f ms CPU\n",
        median(guiMs), median(guiCpuMs));
    std::printf("  anchor: compressModel called directly (all threads)   : %8.2f ms\n",
                median(coreMs));
    std::printf("  anchor: memcpy of the weights                         : %8.2f ms\n",
                median(copyMs));
    return 0;
}
