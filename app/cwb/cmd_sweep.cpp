// `cwb sweep MODEL --param alpha|rho --from X --to Y --steps N [--csv F] [--png F]`:
// evaluates the model at a series of settings, with a progress bar on a terminal, and writes
// the table as CSV and a plot as PNG. The rows are measured by the core's sweep()
// (core/measure), as the window's Sweep button measures them; --param temperature
// (distillation, which trains students) has its own runner in sweep_temperature.cpp and is
// dispatched to it first.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include "app/cwb/command.h"
#include "app/cwb/compression_options.h"
#include "app/cwb/sweep_temperature.h"
#include "core/error.h"
#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"
#include "core/measure/sweep.h"
#include "core/stats/plot_png.h"
#include "core/util/atomic_file.h"

namespace cwb::cli {
namespace {

// One row's columns, in order: the measurement of compressed settings (core/measure).
std::vector<std::pair<std::string, double>> columnsOf(const Measurement& m) {
    const auto& t = m.total;
    long long levels = 0;
    for (const auto& l : m.layers) levels = std::max<long long>(levels, l.kernel.levels);
    return {{"accuracy", m.accuracy.fraction()},
            {"sparsity", t.weights.sparsity},
            {"size_bytes", static_cast<double>(t.encodedBytes)},
            {"compression_ratio", t.ratio},
            {"mse", t.weights.mse},
            {"sqnr_db", t.weights.sqnrDb},
            {"max_levels", static_cast<double>(levels)},
            {"latency_ms_per_1000", m.accuracy.msPerSample() * 1000.0}};
}

SweepParameter sweepParameter(const std::string& name) {
    try {
        return parseSweepParameter(name);
    } catch (const Error&) {
        throw Error("option --param got '" + name + "'; expected alpha, rho or temperature");
    }
}

// A bar on stderr, redrawn in place; only when stderr is a terminal.
class ProgressBar {
public:
    explicit ProgressBar(int steps) : m_steps(steps), m_tty(isatty(STDERR_FILENO) == 1) {}
    void show(int step, double within, const std::string& note) const {
        if (!m_tty) return;
        const double fraction = std::clamp((step + within) / m_steps, 0.0, 1.0);
        const int width = 30, filled = static_cast<int>(fraction * width);
        std::fprintf(stderr, "\r[%s%s] %3d%% %d/%d %s   ", std::string(filled, '#').c_str(),
                     std::string(width - filled, ' ').c_str(), static_cast<int>(fraction * 100),
                     step, m_steps, note.c_str());
        std::fflush(stderr);
    }
    void done() const {
        if (m_tty) std::fprintf(stderr, "\n");
    }

private:
    int m_steps;
    bool m_tty;
};

std::string formatNumber(double v) {
    if (std::isnan(v)) return "";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.8g", v);
    return buf;
}

void writeText(const std::string& path, const std::string& text, const std::string& source) {
    writeFileAtomically(
        path,
        [&](const std::string& temp) {
            std::ofstream out(temp, std::ios::binary | std::ios::trunc);
            out << text;
            if (!out) throw Error("could not write " + path + "; check the folder and free space");
        },
        source);
}

int runSweep(const Args& args) {
    if (args.text("param") == "temperature") return runTemperatureSweep(args);
    args.allowOnly(withCompressionOptions(
        {"param", "from", "to", "steps", "csv", "png", "data", "limit", "threads", "kernel"}));
    if (args.positional().size() != 1)
        throw Error(
            "expects one MODEL; usage: cwb sweep MODEL --param alpha|rho --from X --to Y --steps "
            "N");
    const std::string path = args.positional()[0];
    for (const char* required : {"param", "from", "to", "steps"})
        if (!args.has(required))
            throw Error(
                std::string("option --") + required +
                " is required; usage: cwb sweep MODEL --param alpha|rho --from X --to Y --steps N");
    const SweepParameter parameter = sweepParameter(args.text("param"));
    const std::string name = sweepParameterName(parameter);
    const double from = args.number("from", 0.0), to = args.number("to", 0.0);
    const int steps = args.integer("steps", 0);
    if (steps < 1 || steps > 10000) throw Error("option --steps must be in 1..10000");
    if (!std::isfinite(from) || !std::isfinite(to))
        throw Error("options --from and --to must be finite numbers");
    const std::string csvPath = args.text("csv"), pngPath = args.text("png");
    if (!csvPath.empty()) refuseToOverwriteSource(csvPath, path);
    if (!pngPath.empty()) refuseToOverwriteSource(pngPath, path);
    KernelChoice kernel = KernelChoice::Float;
    if (args.has("kernel") && !parseKernelChoice(args.text("kernel"), kernel))
        throw Error("option --kernel got '" + args.text("kernel") +
                    "'; expected auto, float, int8 or sparse");
    const int limit = args.integer("limit", 0);
    if (limit < 0) throw Error("option --limit must be at least 0");

    const CompressionPlan base = parseCompressionPlan(args);

    auto model = std::make_shared<const Model>(loadModel(path));
    if (!model->evaluable) throw Error(path + " cannot be evaluated: " + model->notEvaluableReason);
    auto data = std::make_shared<const Dataset>(
        loadFashionMnist(args.text("data", kDefaultDatasetDir), Split::Test, limit));

    MeasurerOptions measure;
    measure.threads = args.integer("threads", 0);
    measure.batchSize = 512;  // as `cwb eval`, so their latencies compare
    const Measurer measurer(model, data, measure);
    SweepOptions options;
    options.parameter = parameter;
    options.values = linearSpaced(from, to, steps);
    options.kernels = kernel;
    ProgressBar bar(steps);
    const long long perRow = measurer.samplesFor(0);
    Progress progress;
    progress.callback = [&](long long done, long long) {
        const int row =
            static_cast<int>(std::min<long long>(done / std::max(1LL, perRow), steps - 1));
        bar.show(row, static_cast<double>(done - row * perRow) / std::max(1LL, perRow),
                 name + "=" + formatNumber(options.values[row]));
        return true;
    };
    const std::vector<SweepRow> rows = sweep(measurer, base, options, progress);
    bar.show(steps, 0.0, "done");
    bar.done();

    std::ostringstream csv;
    csv << name;
    for (const auto& [column, v] : columnsOf(rows.front().measurement)) csv << "," << column;
    csv << "\n";
    for (const auto& row : rows) {
        csv << formatNumber(row.value);
        for (const auto& [column, v] : columnsOf(row.measurement)) csv << "," << formatNumber(v);
        csv << "\n";
    }
    std::cout << csv.str();
    if (!csvPath.empty()) writeText(csvPath, csv.str(), path);
    if (!pngPath.empty()) {
        LinePlot plot;
        const std::string file = path.substr(path.find_last_of('/') + 1);
        plot.title = file + ": accuracy vs " + name;
        plot.xLabel = parameter == SweepParameter::Alpha ? "alpha (quantization step)"
                                                         : "rho (pruning threshold)";
        plot.yLabel = "fraction";
        plot.yMin = 0.0;
        plot.yMax = 1.0;
        PlotSeries accuracy{"accuracy", {}, {}, 0x1f77b4}, sparsity{"sparsity", {}, {}, 0xff7f0e};
        for (const auto& row : rows) {
            accuracy.x.push_back(row.value);
            accuracy.y.push_back(row.measurement.accuracy.fraction());
            sparsity.x.push_back(row.value);
            sparsity.y.push_back(row.measurement.total.weights.sparsity);
        }
        plot.series.push_back(accuracy);
        plot.series.push_back(sparsity);
        writePlotPng(plot, pngPath);
    }
    return 0;
}

std::vector<std::string> sweepFlags() { return compressionFlagNames(); }

const CommandRegistration registration{{
    "sweep",
    "sweep MODEL --param alpha|rho|temperature --from X --to Y --steps N [--csv F] [--png F] "
    "[--limit N] "
    "[--kernel K] [compression options]",
    "accuracy, sparsity and size over a series of compression settings (CSV, PNG plot); "
    "--param temperature: distilled students per temperature",
    sweepFlags(),
    runSweep,
}};

}  // namespace
}  // namespace cwb::cli
