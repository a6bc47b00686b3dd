// `cwb sweep MODEL --param alpha|rho --from X --to Y --steps N [--csv F] [--png F]`:
// evaluates the model at a series of settings, with a progress bar on a terminal, and writes
// the table as CSV and a plot as PNG. The rows are measured by the core's sweep()
// (core/measure), as the window's Sweep button measures them; --param temperature
// (distillation, which trains students) has its own runner in sweep_temperature.cpp and is
// dispatched to it first.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>

#include "app/cwb/command.h"
#include "app/cwb/compression_options.h"
#include "app/cwb/device_option.h"
#include "app/cwb/plot/line_plot_png.h"
#include "app/cwb/sweep_args.h"
#include "app/cwb/sweep_temperature.h"
#include "app/cwb/typed_options.h"
#include "core/error.h"
#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"
#include "core/measure/sweep.h"
#include "core/util/atomic_file.h"
#include "core/util/csv.h"

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
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.8g", v);
    return buf;
}

// The options that do not apply to the sweep asked for: the first one given, if any.
const CLI::Option* firstGivenIn(const CLI::App& app, const std::vector<std::string>& groups) {
    for (const CLI::Option* option : app.get_options())
        if (option->count() > 0 &&
            std::find(groups.begin(), groups.end(), option->get_group()) != groups.end())
            return option;
    return nullptr;
}

const std::string kCompressionSweepGroup = "Options of --param alpha and rho";
const std::string kTemperatureSweepGroup = "Options of --param temperature";
const std::string kCompressionGroup = "Compression options";
const std::string kTrainingGroup = "Training options";

// "800x500" as width and height, each 100..10000 pixels.
bool parsePngSize(const std::string& text, int& width, int& height) {
    const auto x = text.find('x');
    if (x == std::string::npos) return false;
    char* end = nullptr;
    const long w = std::strtol(text.c_str(), &end, 10);
    if (end != text.c_str() + x) return false;
    const long h = std::strtol(text.c_str() + x + 1, &end, 10);
    if (*end != '\0' || text[x + 1] == '-' || text[x + 1] == '+' || w < 100 || w > 10000 ||
        h < 100 || h > 10000)
        return false;
    width = static_cast<int>(w);
    height = static_cast<int>(h);
    return true;
}

int runSweep(const SweepArgs& a, const CLI::App& app) {
    const bool temperature = a.param == "temperature";
    const auto misplaced =
        firstGivenIn(app, temperature ? std::vector{kCompressionSweepGroup, kCompressionGroup}
                                      : std::vector{kTemperatureSweepGroup, kTrainingGroup});
    if (misplaced)
        throw UsageError("option " + misplaced->get_name() + " does not apply to --param " +
                         a.param);
    if (temperature) return runTemperatureSweep(a);
    const std::string& path = a.model;
    const SweepParameter parameter = sweepParameter(a.param);
    const std::string name = sweepParameterName(parameter);
    const int steps = a.steps;
    const std::string &csvPath = a.csv, &pngPath = a.png;
    if (!pngPath.empty() && !pngPlotsAvailable())
        throw UsageError(
            "option --png is unavailable in this build (cwb was built without Qt); "
            "plot the --csv table instead");
    if (!csvPath.empty()) refuseToOverwriteSource(csvPath, path);
    if (!pngPath.empty()) refuseToOverwriteSource(pngPath, path);
    const CompressionPlan base = asUsage([&] { return parseCompressionPlan(a.compression); });

    auto model = std::make_shared<const Model>(loadModel(path));
    if (!model->evaluable) throw Error(path + " cannot be evaluated: " + model->notEvaluableReason);
    auto data =
        std::make_shared<const Dataset>(loadFashionMnist(a.train.data, Split::Test, a.train.limit));
    MeasurerOptions measure;
    measure.threads = a.train.threads;
    measure.backend = deviceBackend(a.device);
    measure.batchSize = 512;  // as `cwb eval`, so their latencies compare
    const Measurer measurer(model, data, measure);
    SweepOptions options;
    options.parameter = parameter;
    options.values = linearSpaced(a.from, a.to, steps);
    options.kernels = kernelChoice(a.kernel, KernelChoice::Float);
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

    CsvWriter csv;
    csv.text(name);
    for (const auto& [column, v] : columnsOf(rows.front().measurement)) csv.text(column);
    csv.endRow();
    for (const auto& row : rows) {
        csv.number(row.value);
        for (const auto& [column, v] : columnsOf(row.measurement)) csv.number(v);
        csv.endRow();
    }
    std::cout << csv.str();
    if (!csvPath.empty()) csv.save(csvPath, path);
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
        int width = 0, height = 0;
        parsePngSize(a.pngSize, width, height);  // checked while parsing
        writeLinePlotPng(plot, pngPath, width, height, path);
    }
    return 0;
}

void declareSweep(CLI::App& app, SweepArgs& a) {
    app.add_option("MODEL", a.model, "the model (the teacher for --param temperature)")->required();
    app.add_option("--param", a.param, "the setting to sweep: alpha, rho or temperature")
        ->type_name("P")
        ->required()
        ->check(wordIn(
            [](const std::string& p) { return p == "alpha" || p == "rho" || p == "temperature"; },
            "alpha, rho or temperature"));
    const Interval anyNumber = Interval::open(-INFINITY, INFINITY);
    requiredOption(addNumber(app, "--from", a.from, anyNumber, "the first value"));
    requiredOption(addNumber(app, "--to", a.to, anyNumber, "the last value"));
    requiredOption(
        addInteger(app, "--steps", a.steps, 1, 10000, "values from --from to --to, evenly spaced"));
    app.add_option("--csv", a.csv, "also write the table here")->type_name("F");
    addDataOption(app, a.train.data, "the Fashion-MNIST folder");
    addInteger(app, "--limit", a.train.limit, 0, 100000000,
               "images to use (0 = all): test images for alpha and rho, training images for "
               "temperature");
    addThreadsOption(app, a.train.threads);

    addKernelOption(app, a.kernel)->group(kCompressionSweepGroup);
    addDeviceOption(app, a.device)->group(kCompressionSweepGroup);
    app.add_option("--png", a.png,
                   pngPlotsAvailable()
                       ? "also draw accuracy and sparsity against the setting, as PNG"
                       : "unavailable in this build (cwb was built without Qt)")
        ->type_name("F")
        ->group(kCompressionSweepGroup);
    app.add_option("--png-size", a.pngSize, "size of the --png image in pixels")
        ->type_name("WxH")
        ->capture_default_str()
        ->check(wordIn(
            [](const std::string& t) {
                int w = 0, h = 0;
                return parsePngSize(t, w, h);
            },
            "WIDTHxHEIGHT such as 800x500, 100..10000 pixels each"))
        ->group(kCompressionSweepGroup);
    addCompressionOptions(app, a.compression);

    addTrainOptions(app, a.train, 2, kDefaultDistillBatch, false);
    addStudentOptions(app, a.student, a.kdWeight, Interval::leftOpen(0, 1), kTemperatureSweepGroup);
}

const CommandRegistration registration = command<SweepArgs>(
    "sweep",
    "accuracy, sparsity and size over a series of compression settings (CSV, PNG plot); "
    "--param temperature: distilled students per temperature",
    declareSweep, runSweep);

}  // namespace
}  // namespace cwb::cli
