// `cwb sweep MODEL --param alpha|rho --from X --to Y --steps N [--csv F] [--png F]`:
// evaluates the model at a series of settings, with a progress bar on a terminal, and writes
// the table as CSV and a plot as PNG. Each compression parameter is one entry of
// sweepParameter(); --param temperature (distillation, which trains students) has its own
// runner in sweep_temperature.cpp and is dispatched to it first.
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
#include "core/compress/compress_model.h"
#include "core/error.h"
#include "core/infer/compressed_engine.h"
#include "core/infer/evaluate.h"
#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"
#include "core/stats/plot_png.h"
#include "core/util/atomic_file.h"

namespace cwb::cli {
namespace {

// One point of a sweep: named measurements, in column order.
struct SweepRow {
    double value = 0.0;
    std::vector<std::pair<std::string, double>> columns;

    double column(const std::string& name, double fallback = NAN) const {
        for (const auto& [n, v] : columns)
            if (n == name) return v;
        return fallback;
    }
};

struct SweepContext {
    const Args& args;
    const Model& model;
    const Dataset& data;
    int threads;
    KernelChoice kernel;
    // Reports progress within one point as a fraction in [0, 1].
    std::function<void(double)> progress;
};

struct SweepParameter {
    std::string name;
    std::string axisLabel;
    std::function<SweepRow(double value, const SweepContext& ctx)> run;
};

// Compression parameters: the plan of the other options with one setting replaced.
SweepParameter compressionParameter(const std::string& name) {
    SweepParameter p;
    p.name = name;
    p.axisLabel = name == "alpha" ? "alpha (quantization step)" : "rho (pruning threshold)";
    p.run = [name](double value, const SweepContext& ctx) {
        CompressionPlan plan = parseCompressionPlan(ctx.args);
        if (name == "alpha") {
            plan.defaults.quant.alpha = static_cast<float>(value);
            plan.defaults.quant.bits = 0;
        } else {
            plan.defaults.prune.rho = static_cast<float>(value);
            if (plan.defaults.prune.method != PruneMethod::TextbookThreshold)
                plan.defaults.prune.method = PruneMethod::Threshold;
        }
        CompressOptions options;
        options.threads = ctx.threads;
        options.stats.histograms = false;
        const CompressionResult compressed = compressModel(ctx.model, plan, options);
        CompressedEngineOptions engineOptions;
        engineOptions.engine.threads = ctx.threads;
        engineOptions.kernel = ctx.kernel;
        engineOptions.grids = &compressed.grids;
        const auto engine = makeCompressedEngine(compressed.model, engineOptions);
        EvalOptions eval;
        eval.progress.callback = [&](long long done, long long total) {
            ctx.progress(total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0);
            return true;
        };
        const EvalResult r = evaluate(*engine, ctx.data, eval);
        const auto& t = compressed.total;
        long long levels = 0;
        for (const auto& l : compressed.layers)
            levels = std::max<long long>(levels, l.kernel.levels);
        SweepRow row;
        row.value = value;
        row.columns = {{"accuracy", r.accuracy},
                       {"sparsity", t.weights.sparsity},
                       {"size_bytes", static_cast<double>(t.encodedBytes)},
                       {"compression_ratio", t.ratio},
                       {"mse", t.weights.mse},
                       {"sqnr_db", t.weights.sqnrDb},
                       {"max_levels", static_cast<double>(levels)},
                       {"latency_ms_per_1000", r.samples ? r.seconds / r.samples * 1e6 : 0.0}};
        return row;
    };
    return p;
}

SweepParameter sweepParameter(const std::string& name) {
    if (name == "alpha" || name == "rho") return compressionParameter(name);
    throw Error("option --param got '" + name + "'; expected alpha, rho or temperature");
}

// A bar on stderr, redrawn in place; only when stderr is a terminal.
class ProgressBar {
public:
    explicit ProgressBar(int steps) : m_steps(steps), m_tty(isatty(STDERR_FILENO) == 1) {}
    void show(int step, double within, const std::string& note) const {
        if (!m_tty) return;
        const double fraction = (step + std::clamp(within, 0.0, 1.0)) / m_steps;
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

    const Model model = loadModel(path);
    if (!model.evaluable) throw Error(path + " cannot be evaluated: " + model.notEvaluableReason);
    const Dataset data =
        loadFashionMnist(args.text("data", kDefaultDatasetDir), Split::Test, limit);

    ProgressBar bar(steps);
    std::vector<SweepRow> rows;
    for (int i = 0; i < steps; ++i) {
        const double value = steps == 1 ? from : from + (to - from) * i / (steps - 1);
        const std::string note = parameter.name + "=" + formatNumber(value);
        const SweepContext ctx{args,   model,
                               data,   args.integer("threads", 0),
                               kernel, [&](double within) { bar.show(i, within, note); }};
        bar.show(i, 0.0, note);
        rows.push_back(parameter.run(value, ctx));
    }
    bar.show(steps, 0.0, "done");
    bar.done();

    std::ostringstream csv;
    csv << parameter.name;
    for (const auto& [name, v] : rows.front().columns) csv << "," << name;
    csv << "\n";
    for (const auto& row : rows) {
        csv << formatNumber(row.value);
        for (const auto& [name, v] : row.columns) csv << "," << formatNumber(v);
        csv << "\n";
    }
    std::cout << csv.str();
    if (!csvPath.empty()) writeText(csvPath, csv.str(), path);
    if (!pngPath.empty()) {
        LinePlot plot;
        const std::string file = path.substr(path.find_last_of('/') + 1);
        plot.title = file + ": accuracy vs " + parameter.name;
        plot.xLabel = parameter.axisLabel;
        plot.yLabel = "fraction";
        plot.yMin = 0.0;
        plot.yMax = 1.0;
        PlotSeries accuracy{"accuracy", {}, {}, 0x1f77b4}, sparsity{"sparsity", {}, {}, 0xff7f0e};
        for (const auto& row : rows) {
            accuracy.x.push_back(row.value);
            accuracy.y.push_back(row.column("accuracy"));
            sparsity.x.push_back(row.value);
            sparsity.y.push_back(row.column("sparsity"));
        }
        plot.series.push_back(accuracy);
        if (!std::isnan(rows.front().column("sparsity"))) plot.series.push_back(sparsity);
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
