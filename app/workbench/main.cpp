// compression-workbench: the desktop window. Options are parsed with QCommandLineParser;
// --screenshot renders the window to a PNG (for the README and tests) and exits.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <cstdio>

#include "core/infer/cpu/gemm.h"
#include "ui/window/main_window.h"
#include "ui/window/screenshot_runner.h"

namespace {

std::optional<double> numberOption(const QCommandLineParser& parser, const QString& name,
                                   bool* ok) {
    if (!parser.isSet(name)) return std::nullopt;
    bool valid = false;
    const double v = parser.value(name).toDouble(&valid);
    if (!valid || v < 0) {
        std::fprintf(stderr, "compression-workbench: --%s needs a number >= 0, got \"%s\"\n",
                     qPrintable(name), qPrintable(parser.value(name)));
        *ok = false;
    }
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    cwb::cpu::restartWithFasterBlas();
    QApplication app(argc, argv);
    QApplication::setOrganizationName("CompressionWorkbench");
    QApplication::setApplicationName("Compression Workbench");
    QApplication::setApplicationVersion(QStringLiteral("0.1"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        "Compress a trained neural network by eye: quantize, prune and distil.");
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(
        "model",
        "Model to open (.h5, .keras, .safetensors), or a language-model checkpoint (a Hugging "
        "Face folder or its config.json, a .gguf, a llama2.c .bin).",
        "[model]");
    parser.addOption({"model", "Model to open (same as the positional argument).", "path"});
    parser.addOption({"screenshot", "Render the window to a PNG and exit.", "file"});
    parser.addOption({"alpha", "Quantization step alpha (0 = off).", "a"});
    parser.addOption({"rho", "Pruning threshold rho (0 = off).", "r"});
    parser.addOption({"bits", "k-bit codes, 2..8 (0 = use alpha).", "k"});
    parser.addOption(
        {"layer", "Show this layer's (or language-model tensor's) histograms.", "name"});
    parser.addOption({"format", "A language model: a llama.cpp block format (Q4_K, ...).", "type"});
    parser.addOption({"scope", "With --format: blocks (default) or all.", "scope"});
    parser.addOption({"sweep",
                      "With --screenshot: run a sweep of the active parameter first (on the "
                      "measure tab with --format: of the block formats)."});
    parser.addOption(
        {"tab",
         "With --screenshot: the page to show, compression or distillation; for a language "
         "model tensors, table or measure (perplexity and speed).",
         "name"});
    parser.addOption({"train", "With --screenshot: train a student (distillation) first."});
    parser.addOption(
        {"epochs", "With --train: epochs of the student's training (default 1).", "n", "1"});
    parser.addOption(
        {"timeout", "With --screenshot: seconds to wait for results (default 180).", "s", "180"});
    parser.process(app);

    QString model = parser.value("model");
    if (model.isEmpty() && !parser.positionalArguments().isEmpty())
        model = parser.positionalArguments().first();
    bool ok = true;
    cwb::ui::ScreenshotOptions shot;
    shot.alpha = numberOption(parser, "alpha", &ok);
    shot.rho = numberOption(parser, "rho", &ok);
    if (const auto bits = numberOption(parser, "bits", &ok)) shot.bits = static_cast<int>(*bits);
    if (!ok) return 2;

    const bool screenshot = parser.isSet("screenshot");
    QTemporaryDir scratch;
    if (screenshot) {
        // A screenshot must not depend on, nor change, the user's saved settings.
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, scratch.path());
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, scratch.path());
    }

    cwb::ui::MainWindow window;
    if (screenshot) {
        shot.file = parser.value("screenshot");
        shot.model = model;
        shot.layer = parser.value("layer");
        shot.format = parser.value("format");
        shot.scope = parser.value("scope");
        shot.sweep = parser.isSet("sweep");
        shot.tab = parser.value("tab");
        shot.train = parser.isSet("train");
        shot.epochs = qBound(1, parser.value("epochs").toInt(), 50);
        shot.timeoutMs = static_cast<int>(parser.value("timeout").toDouble() * 1000);
        auto* runner = new cwb::ui::ScreenshotRunner(&window, shot, &window);
        runner->start();
        return app.exec();
    }

    window.restoreLayout();
    window.show();
    if (!model.isEmpty())
        window.openModel(model);
    else
        window.openStartupModel();
    if (shot.alpha || shot.rho || shot.bits) {
        QObject::connect(
            &window, &cwb::ui::MainWindow::modelReady, &window,
            [&window, shot] {
                using cwb::ui::SettingsField;
                cwb::WorkbenchSettings s = window.settings();
                if (shot.alpha) setFieldValue(s, SettingsField::Alpha, *shot.alpha);
                if (shot.rho) setFieldValue(s, SettingsField::Rho, *shot.rho);
                if (shot.bits) setFieldValue(s, SettingsField::Bits, *shot.bits);
                window.settingsOwner()->editAll(s, QStringLiteral("command line"));
            },
            Qt::SingleShotConnection);
    }
    if (parser.isSet("layer")) window.selectLayer(parser.value("layer"));
    return app.exec();
}
