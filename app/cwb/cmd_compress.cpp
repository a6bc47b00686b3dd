// `cwb compress MODEL -o OUT.h5 [options] [--report R.json]`: writes the compressed model in
// Keras's .h5 layout (it loads back here and in Keras) and a JSON report of the statistics.
// Both files are written atomically; the input is never overwritten.
#include <cstdio>
#include <iostream>
#include <memory>

#include "app/cwb/command.h"
#include "app/cwb/compression_options.h"
#include "app/cwb/compression_report.h"
#include "app/cwb/device_option.h"
#include "app/cwb/typed_options.h"
#include "core/compress/compress_model.h"
#include "core/error.h"
#include "core/io/keras_h5_writer.h"
#include "core/io/model_loader.h"
#include "core/util/atomic_file.h"

namespace cwb::cli {
namespace {

struct CompressArgs {
    std::string model, output, report;
    int threads = 0, histogramBins = 128;
    std::string device = "auto";
    bool json = false;
    CompressionArgs compression;
};

int runCompress(const CompressArgs& o) {
    const std::string& path = o.model;
    const std::string& output = o.output;
    const std::string& reportPath = o.report;
    if (output.empty())
        throw UsageError("-o OUT.h5 is required: where to write the compressed model");
    const CompressionPlan plan = asUsage([&] { return parseCompressionPlan(o.compression); });
    refuseToOverwriteSource(output, path);
    if (!reportPath.empty()) {
        refuseToOverwriteSource(reportPath, path);
        refuseToOverwriteSource(reportPath, output);
    }

    const Model model = loadModel(path);
    if (!model.evaluable)
        throw Error(path + " holds weights only (" + model.notEvaluableReason +
                    "); compress needs a full model to write back as Keras .h5");
    CompressOptions options;
    options.threads = o.threads;
    options.backend = deviceBackend(o.device);
    options.stats.weights.bins = options.stats.error.bins = o.histogramBins;
    const CompressionResult result = compressModel(model, plan, options);

    saveKerasH5(result.model, output);
    const Json report{
        {"model", path}, {"output", output}, {"compression", compressionJson(result, true)}};
    if (!reportPath.empty()) writeBytesAtomically(reportPath, report.dump(1) + "\n", path);
    if (o.json) {
        std::cout << Json{{"model", path},
                          {"output", output},
                          {"compression", compressionJson(result, false)}}
                         .dump()
                  << "\n";
        return 0;
    }
    const auto& t = result.total;
    std::printf("wrote %s\n", output.c_str());
    for (const auto& l : result.layers)
        std::printf(
            "  %-24s %-34s sparsity %.4f  levels %6lld  mse %.3g  %lld -> %lld bytes (%s)\n",
            l.name.c_str(), l.settingsText.c_str(), l.kernel.sparsity,
            static_cast<long long>(l.kernel.levels), l.kernel.mse,
            static_cast<long long>(l.kernel.size.float32Bytes),
            static_cast<long long>(l.kernel.size.bytes),
            sparseFormatName(l.kernel.size.sparse).c_str());
    std::printf(
        "model: %lld parameters, %lld bytes float32 -> %lld bytes encoded (ratio %.2f), sparsity "
        "%.4f\n",
        static_cast<long long>(t.parameters), static_cast<long long>(t.float32Bytes),
        static_cast<long long>(t.encodedBytes), t.ratio, t.weights.sparsity);
    if (!reportPath.empty()) std::printf("report: %s\n", reportPath.c_str());
    return 0;
}

void declareCompress(CLI::App& app, CompressArgs& o) {
    app.add_option("MODEL", o.model, "a Keras .h5 or .keras model")->required();
    app.add_option("-o,--output", o.output, "where to write the compressed model (.h5)")
        ->type_name("OUT.h5");
    app.add_option("--report", o.report, "also write the statistics as JSON here")
        ->type_name("R.json");
    addInteger(app, "--histogram-bins", o.histogramBins, 1, 65000,
               "bins of the report's histograms");
    addThreadsOption(app, o.threads);
    addDeviceOption(app, o.device);
    app.add_flag("--json", o.json, "print the statistics as JSON instead of text");
    addCompressionOptions(app, o.compression);
}

const CommandRegistration registration = command<CompressArgs>(
    "compress", "write the compressed model as Keras .h5 and a JSON report of its statistics",
    declareCompress, runCompress);

}  // namespace
}  // namespace cwb::cli
