// `cwb compress MODEL -o OUT.h5 [options] [--report R.json]`: writes the compressed model in
// Keras's .h5 layout (it loads back here and in Keras) and a JSON report of the statistics.
// Both files are written atomically; the input is never overwritten.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "app/cwb/command.h"
#include "app/cwb/compression_options.h"
#include "app/cwb/compression_report.h"
#include "core/compress/compress_model.h"
#include "core/error.h"
#include "core/io/keras_h5_writer.h"
#include "core/io/model_loader.h"
#include "core/util/atomic_file.h"

namespace cwb::cli {
namespace {

int runCompress(const Args& args) {
    args.allowOnly(
        withCompressionOptions({"output", "report", "threads", "histogram-bins", "json"}));
    // `-o OUT` arrives as two positional tokens (the parser knows only --options).
    std::vector<std::string> positional = args.positional();
    std::string output = args.text("output");
    for (std::size_t i = 0; i + 1 < positional.size(); ++i)
        if (positional[i] == "-o") {
            output = positional[i + 1];
            positional.erase(positional.begin() + static_cast<long>(i),
                             positional.begin() + static_cast<long>(i) + 2);
            break;
        }
    if (positional.size() != 1 || output.empty())
        throw Error(
            "expects one MODEL and -o OUT.h5; usage: cwb compress MODEL -o OUT.h5 [options] "
            "[--report R.json]");
    const std::string path = positional[0];
    const std::string reportPath = args.text("report");
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
    options.threads = args.integer("threads", 0);
    options.stats.weights.bins = options.stats.error.bins = args.integer("histogram-bins", 128);
    if (options.stats.weights.bins < 1 || options.stats.weights.bins > 65000)
        throw Error("option --histogram-bins must be in 1..65000");
    const CompressionResult result = compressModel(model, parseCompressionPlan(args), options);

    saveKerasH5(result.model, output);
    const Json report{
        {"model", path}, {"output", output}, {"compression", compressionJson(result, true)}};
    if (!reportPath.empty())
        writeFileAtomically(
            reportPath,
            [&](const std::string& temp) {
                std::ofstream out(temp, std::ios::binary | std::ios::trunc);
                out << report.dump(1) << "\n";
                if (!out)
                    throw Error("could not write the report " + reportPath +
                                "; check the folder and free space");
            },
            path);
    if (args.has("json")) {
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

std::vector<std::string> compressFlags() {
    std::vector<std::string> flags{"json"};
    for (const auto& f : compressionFlagNames()) flags.push_back(f);
    return flags;
}

const CommandRegistration registration{{
    "compress",
    "compress MODEL -o OUT.h5 [--report R.json] [--histogram-bins N] [--threads N] [--json] " +
        compressionUsage(),
    "write the compressed model as Keras .h5 and a JSON report of its statistics",
    compressFlags(),
    runCompress,
}};

}  // namespace
}  // namespace cwb::cli
