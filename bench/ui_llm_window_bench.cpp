// The window's language-model mode on a large checkpoint (`cwb synth --shape llama7b`, 13.5 GB
// of bf16): time to open it (browser filled), a settings move to the largest tensor's
// histograms on screen (the sampled preview, and the exact one after), the whole-model
// table's time against reading the checkpoint's bytes from the page cache, and peak resident
// memory (anonymous and file-backed). Writes bench/results/llm_window.md.
//
//     ui_llm_window_bench [CHECKPOINT] [--table-seconds S] [--no-table]
// CHECKPOINT defaults to /work/scratch/llama7b; the table with every default format is cut
// after S seconds (default 120) and its total extrapolated by values done; --no-table skips
// the read and the table (llm_table_bench measures the table's ratio on its own).
#include <fcntl.h>
#include <unistd.h>

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTextStream>
#include <QtTest/QSignalSpy>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "bench/support/bench_util.h"
#include "core/util/parallel.h"
#include "ui/llm/llm_mode.h"
#include "ui/llm/llm_tensor_page.h"
#include "ui/llm/model_table_panel.h"
#include "ui/llm/tensor_browser.h"
#include "ui/plots/weight_histogram_plot.h"
#include "ui/window/main_window.h"
#include "ui/worker/llm_controller.h"

using namespace cwb;
using namespace cwb::bench;
using namespace cwb::ui;
using Clock = std::chrono::steady_clock;

namespace {

// VmHWM, RssAnon and RssFile of this process, in MiB.
QString memory() {
    QFile f("/proc/self/status");
    if (!f.open(QIODevice::ReadOnly)) return "?";
    QStringList out;
    for (const QString& line : QString::fromUtf8(f.readAll()).split('\n'))
        for (const char* key : {"VmHWM:", "RssAnon:", "RssFile:"})
            if (line.startsWith(key))
                out << QString("%1 %2 MiB")
                           .arg(QString(key).chopped(1))
                           .arg(line.section(':', 1).trimmed().section(' ', 0, 0).toLongLong() /
                                1024);
    return out.join(", ");
}

// Seconds to read every file of the checkpoint with read() in 16 MiB pieces.
double readAll(const QString& dir, qint64& bytes) {
    bytes = 0;
    std::vector<char> buffer(16 << 20);
    const auto start = Clock::now();
    for (const QString& name :
         QDir(dir).entryList({"*.safetensors", "*.gguf", "*.bin"}, QDir::Files)) {
        const int fd = ::open(QFile::encodeName(dir + "/" + name).constData(), O_RDONLY);
        if (fd < 0) continue;
        for (ssize_t n; (n = ::read(fd, buffer.data(), buffer.size())) > 0;) bytes += n;
        ::close(fd);
    }
    return ms(start, Clock::now()) / 1000.0;
}

// Runs the event loop until `done` or `timeoutMs`.
template <class Done>
bool waitFor(Done done, int timeoutMs) {
    QElapsedTimer t;
    t.start();
    while (!done()) {
        if (t.elapsed() > timeoutMs) return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines as they come, also into a log
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QString path = "/work/scratch/llama7b";
    int tableSeconds = 120;
    bool table = true;
    for (int i = 1; i < argc; ++i) {
        const QString a = argv[i];
        if (a == "--no-table")
            table = false;
        else if (a == "--table-seconds" && i + 1 < argc)
            tableSeconds = QString(argv[++i]).toInt();
        else if (a.startsWith('-'))
            refuseOption(a.toStdString(),
                         "ui_llm_window_bench [CHECKPOINT] [--no-table] [--table-seconds S]");
        else
            path = a;
    }
    QStringList report;
    const QString load0 = QString::fromStdString(bench::loadAverage());
    const int threads = resolveThreads(0);
    std::printf("checkpoint %s, threads %d, load %s\n", qPrintable(path), threads,
                qPrintable(load0));

    MainWindow window;
    window.resize(1280, 800);
    window.show();
    LlmController* c = window.llmController();
    LlmMode* mode = window.llmMode();

    // 1. Open, three times (the first may read metadata from disk; the others from the cache).
    std::vector<double> opens;
    for (int i = 0; i < 3; ++i) {
        QSignalSpy changed(c, &LlmController::sessionChanged);
        const auto start = Clock::now();
        window.openModel(path);
        if (!waitFor([&] { return !changed.isEmpty(); }, 60000)) {
            std::fprintf(stderr, "could not open %s\n", qPrintable(path));
            return 1;
        }
        QCoreApplication::processEvents();
        opens.push_back(ms(start, Clock::now()));
        std::printf("open %d: %.0f ms (reader %.0f ms), %d rows in the browser\n", i + 1,
                    opens.back(), c->session()->loadSeconds * 1000,
                    mode->browser()->model()->rowCount());
    }
    const auto session = c->session();
    // The checkpoint's size from its tensors (the header's figure, with or without the
    // table's read of the files).
    double tensorBytes = 0.0;
    for (const LlamaTensorRole& role : session->roles)
        tensorBytes += double(role.tensor->byteSize());
    waitFor([&] { return c->isIdle(); }, 600000);
    const QString memOpen = memory();

    // 2. The largest tensor the settings compress (a block matrix: the embedding and output
    // stay under alpha and rho); settings moves to its histograms on screen.
    int largest = -1;
    for (std::size_t i = 0; i < session->roles.size(); ++i)
        if (isBlockMatrix(session->roles[i].kind) &&
            (largest < 0 || session->roles[i].tensor->elements() >
                                session->roles[std::size_t(largest)].tensor->elements()))
            largest = int(i);
    const LlamaTensorRole& big = session->roles[std::size_t(largest)];
    mode->browser()->selectTensor(QString::fromStdString(big.fileName));
    waitFor([&] { return c->isIdle(); }, 600000);
    WeightHistogramPlot* plot = mode->tensorPage()->weightPlot();
    struct Move {
        const char* what;
        SettingsField field;
        QVariant value;
    };
    const std::vector<Move> moves = {
        {"alpha 0.01", SettingsField::Alpha, 0.01},   {"alpha 0.02", SettingsField::Alpha, 0.02},
        {"alpha 0.005", SettingsField::Alpha, 0.005}, {"alpha 0", SettingsField::Alpha, 0.0},
        {"rho 0.01", SettingsField::Rho, 0.01},       {"rho 0", SettingsField::Rho, 0.0},
        {"Q4_K", SettingsField::LlmFormat, "Q4_K"},   {"Q8_0", SettingsField::LlmFormat, "Q8_0"},
        {"Q4_0", SettingsField::LlmFormat, "Q4_0"},   {"Q2_K", SettingsField::LlmFormat, "Q2_K"},
        {"none", SettingsField::LlmFormat, ""},
    };
    std::vector<double> preview, exact;
    QStringList moveRows;
    for (const Move& m : moves) {
        bool sawPreview = false, sawExact = false;
        Clock::time_point tPreview{}, tExact{};
        bool pendingPreview = false, pendingExact = false;
        auto viewConn = QObject::connect(c, &LlmController::viewReady, [&] {
            if (!c->view()->exact)
                pendingPreview = true;
            else
                pendingExact = true;
        });
        // On screen: the replot that follows the view.
        auto plotConn = QObject::connect(plot, &QCustomPlot::afterReplot, [&] {
            if (pendingPreview && !sawPreview) {
                sawPreview = true;
                tPreview = Clock::now();
            }
            if (pendingExact && !sawExact) {
                sawExact = true;
                tExact = Clock::now();
            }
        });
        const auto start = Clock::now();
        window.settingsOwner()->edit(m.field, m.value);
        waitFor([&] { return sawExact; }, 600000);
        QObject::disconnect(viewConn);
        QObject::disconnect(plotConn);
        const double p = sawPreview ? ms(start, tPreview) : ms(start, tExact);
        const double e = ms(start, tExact);
        preview.push_back(p);
        exact.push_back(e);
        moveRows << QString("| %1 | %2 | %3 |").arg(m.what).arg(p, 0, 'f', 0).arg(e, 0, 'f', 0);
        std::printf("move %-12s preview on screen %6.0f ms, exact %7.0f ms\n", m.what, p, e);
        waitFor([&] { return c->isIdle(); }, 600000);  // the browser's figures too
    }
    const QString memSlider = memory();

    // 2b. A move while the previous move's exact histograms are being computed (a drag): the
    // running job must notice it is stale and give way. Pairs of moves, the second 300 ms
    // after the first one's preview is on screen.
    const std::vector<std::pair<Move, Move>> drags = {
        {{"alpha 0.01", SettingsField::Alpha, 0.01}, {"alpha 0.02", SettingsField::Alpha, 0.02}},
        {{"alpha 0.005", SettingsField::Alpha, 0.005}, {"rho 0.01", SettingsField::Rho, 0.01}},
        {{"rho 0.02", SettingsField::Rho, 0.02}, {"rho 0", SettingsField::Rho, 0.0}},
        {{"Q4_K", SettingsField::LlmFormat, "Q4_K"}, {"Q6_K", SettingsField::LlmFormat, "Q6_K"}},
        {{"Q8_0", SettingsField::LlmFormat, "Q8_0"}, {"Q2_K", SettingsField::LlmFormat, "Q2_K"}},
        {{"alpha 0", SettingsField::Alpha, 0.0}, {"none", SettingsField::LlmFormat, ""}},
    };
    std::vector<double> dragPreview;
    QStringList dragRows;
    for (const auto& [first, second] : drags) {
        bool shown = false;
        auto viewConn = QObject::connect(c, &LlmController::viewReady, [&] { shown = true; });
        window.settingsOwner()->edit(first.field, first.value);
        waitFor([&] { return shown; }, 60000);
        QObject::disconnect(viewConn);
        waitFor([] { return false; }, 300);  // the exact computation runs meanwhile
        bool pending = false, onScreen = false;
        Clock::time_point seen{};
        viewConn = QObject::connect(c, &LlmController::viewReady, [&] { pending = true; });
        auto plotConn = QObject::connect(plot, &QCustomPlot::afterReplot, [&] {
            if (pending && !onScreen) {
                onScreen = true;
                seen = Clock::now();
            }
        });
        const auto start = Clock::now();
        window.settingsOwner()->edit(second.field, second.value);
        waitFor([&] { return onScreen; }, 600000);
        QObject::disconnect(viewConn);
        QObject::disconnect(plotConn);
        const double p = ms(start, seen);
        dragPreview.push_back(p);
        dragRows << QString("| %1 then %2 | %3 |").arg(first.what, second.what).arg(p, 0, 'f', 0);
        std::printf("drag %-12s -> %-12s preview on screen %6.0f ms\n", first.what, second.what, p);
        waitFor([&] { return c->isIdle(); }, 600000);
    }

    // 3. Reading the bytes from the page cache (twice: the second is the cached one).
    qint64 bytes = 0;
    const double read1 = table ? readAll(path, bytes) : 0.0;
    const double read2 = table ? readAll(path, bytes) : 1.0;
    if (table)
        std::printf("read %.2f GB: %.1f s, then %.1f s (%.2f GB/s)\n", bytes / 1e9, read1, read2,
                    bytes / 1e9 / read2);

    // 4. The whole-model table: Q8_0 alone in full, then the default formats for a while.
    ModelTablePanel* tablePanel = mode->modelTable();
    QStringList tableRows;
    const auto runTable = [&](const std::vector<DType>& formats, const QString& what, int limitS) {
        tablePanel->setFormats(formats);
        qint64 done = 0, total = 1;
        auto conn = QObject::connect(c, &LlmController::tableProgress,
                                     [&](qint64 d, qint64 t) { done = d, total = t; });
        QSignalSpy finished(tablePanel, &ModelTablePanel::finished);
        const auto start = Clock::now();
        tablePanel->start();
        const bool complete = waitFor([&] { return !finished.isEmpty(); }, limitS * 1000);
        const double s = ms(start, Clock::now()) / 1000.0;
        if (!complete) {
            tablePanel->cancel();
            waitFor([&] { return c->tableLane().isIdle(); }, 60000);
        }
        QObject::disconnect(conn);
        const double fraction = complete ? 1.0 : double(done) / double(std::max<qint64>(1, total));
        const double full = fraction > 0 ? s / fraction : 0.0;
        tableRows
            << QString("| %1 | %2 | %3 s | %4 s | %5x |")
                   .arg(what)
                   .arg(complete
                            ? "complete"
                            : QString("cut at %1 % of the values").arg(100 * fraction, 0, 'f', 1))
                   .arg(s, 0, 'f', 1)
                   .arg(full, 0, 'f', 1)
                   .arg(full / read2, 0, 'f', 1);
        std::printf("table %s: %.1f s for %.1f %% -> %.1f s whole, %.1fx the cached read\n",
                    qPrintable(what), s, 100 * fraction, full, full / read2);
    };
    // The settings are as stored here (the moves ended on "none", alpha and rho 0): no
    // settings column until alpha and rho are set for their own run.
    if (table) runTable({DType::Q8_0}, "Q8_0", 3600);
    if (table) {
        WorkbenchSettings s = window.settings();
        s.plan.defaults.quant.alpha = 0.01f;
        s.plan.defaults.prune.rho = 0.01f;
        window.settingsOwner()->editAll(s, "bench");
        waitFor([&] { return c->isIdle(); }, 600000);
        runTable({}, "alpha 0.01, rho 0.01 (the settings' column)", 3600);
        s.plan.defaults.quant.alpha = 0.f;
        s.plan.defaults.prune.rho = 0.f;
        window.settingsOwner()->editAll(s, "bench");
        waitFor([&] { return c->isIdle(); }, 600000);
    }
    if (table)
        runTable({DType::Q8_0, DType::Q6_K, DType::Q5_K, DType::Q4_K, DType::Q4_0, DType::Q3_K,
                  DType::Q2_K},
                 "the 7 default formats", tableSeconds);
    const QString memTable = memory();
    const QString load1 = QString::fromStdString(bench::loadAverage());

    QFile cpu("/proc/cpuinfo");
    QString model = "?";
    if (cpu.open(QIODevice::ReadOnly))
        for (const QString& line : QString::fromUtf8(cpu.readAll()).split('\n'))
            if (line.startsWith("model name")) {
                model = line.section(':', 1).trimmed();
                break;
            }
    report << "# The window's language-model mode at 7B scale (ui_llm_window_bench)"
           << ""
           << QString(
                  "Checkpoint: `%1` (`cwb synth --shape llama7b`, %2 GB of bf16, %3 tensors). "
                  "Machine: %4, %5 threads used by the worker, load average %6 at the start "
                  "and %7 at the end (the machine is shared: wall times grow with the load).")
                  .arg(path)
                  .arg(tensorBytes / 1e9, 0, 'f', 2)
                  .arg(session->roles.size())
                  .arg(model)
                  .arg(threads)
                  .arg(load0, load1)
           << ""
           << QString(
                  "Rerun: `build/bench/ui_llm_window_bench %1 --table-seconds %2` (the "
                  "table's ratio is measured per column, anchors interleaved, by "
                  "`build/bench/llm_table_bench %1`: bench/results/llm_table.md).")
                  .arg(path)
                  .arg(tableSeconds)
           << ""
           << "## Opening (goal < 2 s)"
           << ""
           << QString("File ▸ Open to the browser filled: %1 ms, %2 ms, %3 ms (median %4 ms).")
                  .arg(opens[0], 0, 'f', 0)
                  .arg(opens[1], 0, 'f', 0)
                  .arg(opens[2], 0, 'f', 0)
                  .arg(median(opens), 0, 'f', 0)
           << "" << QString("Memory after opening and the first histograms: %1.").arg(memOpen) << ""
           << "## A settings move to the largest tensor's histograms on screen (goal < 100 ms)"
           << ""
           << QString(
                  "Tensor: %1 %2 (%L3 values). The preview bins %L4 evenly spaced values' "
                  "rows; the exact histograms follow. Times from the edit to the replot of "
                  "the weight histogram.")
                  .arg(QString::fromStdString(big.fileName))
                  .arg(QString::fromStdString(shapeToString(big.tensor->shape())))
                  .arg(big.tensor->elements())
                  .arg(c->previewElements())
           << ""
           << "| move | preview on screen, ms | exact on screen, ms |"
           << "|---|---|---|" << moveRows
           << QString("| median | %1 | %2 |")
                  .arg(median(preview), 0, 'f', 0)
                  .arg(median(exact), 0, 'f', 0)
           << "" << QString("Memory after the moves: %1.").arg(memSlider) << ""
           << "## A move while the previous one's exact histograms are computed (goal < 100 ms)"
           << ""
           << "The second move comes 300 ms after the first one's preview is on screen, while "
              "the exact statistics of the first run: the time from the second edit to its "
              "preview on screen."
           << ""
           << "| moves | preview on screen, ms |"
           << "|---|---|" << dragRows
           << QString("| median | %1 |").arg(median(dragPreview), 0, 'f', 0) << "";
    if (table)
        report << "## Whole-model table against reading the bytes (goal ≤ 2x)"
               << ""
               << QString(
                      "Reading all %1 GB with read(): %2 s the first time, %3 s from the page "
                      "cache (%4 GB/s).")
                      .arg(bytes / 1e9, 0, 'f', 2)
                      .arg(read1, 0, 'f', 1)
                      .arg(read2, 0, 'f', 1)
                      .arg(bytes / 1e9 / read2, 0, 'f', 2)
               << ""
               << "| formats | run | time | whole table | x cached read |"
               << "|---|---|---|---|---|" << tableRows << "";
    report << QString(
                  "Memory at the end: %1 (RssFile: mapped checkpoint pages read so far; "
                  "the kernel drops them under pressure).")
                  .arg(memTable);
    const QString out = QString(CWB_SOURCE_DIR) + "/bench/results/llm_window.md";
    QFile f(out);
    if (f.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        QTextStream(&f) << report.join('\n') << '\n';
        std::printf("wrote %s\n", qPrintable(out));
    }
    return 0;
}
