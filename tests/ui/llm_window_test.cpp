// The window's language-model mode end to end on kjv-llama-6m: opening the folder (and its
// config.json, a shard) and each GGUF fixture fills the tensor browser with the tensors that
// EXPECTED.md's architecture implies (names, shapes, dtypes written out here from its
// figures); the histograms on display equal compressLlama's for the same settings; a storm of
// slider moves ends on the last one; the whole-model table agrees with hand-worked sizes,
// exports as CSV and cancels within 200 ms; opening a Keras model switches back; names sort
// naturally and the sliders take the selected tensor's weight scale.
#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QTreeView>
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <map>

#include "core/llm/llm_compress.h"
#include "core/llm/synthetic_checkpoint.h"
#include "tests/ui/ui_test_support.h"
#include "ui/llm/llm_format_panel.h"
#include "ui/llm/llm_mode.h"
#include "ui/llm/llm_tensor_page.h"
#include "ui/llm/model_table_panel.h"
#include "ui/llm/tensor_browser.h"
#include "ui/panels/controls_panel.h"
#include "ui/panels/log_slider.h"
#include "ui/plots/error_histogram_plot.h"
#include "ui/plots/weight_histogram_plot.h"
#include "ui/worker/latest_wins_lane.h"
#include "ui/worker/llm_controller.h"

using namespace cwb;
using namespace cwb::ui;

namespace {

// EXPECTED.md: hidden 256, 6 layers, 8 heads and 2 key/value heads of 32, MLP 768,
// vocab 4096, untied embeddings.
constexpr int kHidden = 256, kLayers = 6, kKv = 2 * 32, kInter = 768, kVocab = 4096;

struct ExpectedTensor {
    Shape shape;
    DType dtype;
};

// Every tensor of the Hugging Face folder (bf16) by its file name.
std::map<std::string, ExpectedTensor> huggingFaceTensors() {
    std::map<std::string, ExpectedTensor> t;
    const DType b = DType::BF16;
    t["model.embed_tokens.weight"] = {{kVocab, kHidden}, b};
    t["lm_head.weight"] = {{kVocab, kHidden}, b};
    t["model.norm.weight"] = {{kHidden}, b};
    for (int l = 0; l < kLayers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        t[p + "input_layernorm.weight"] = {{kHidden}, b};
        t[p + "post_attention_layernorm.weight"] = {{kHidden}, b};
        t[p + "self_attn.q_proj.weight"] = {{kHidden, kHidden}, b};
        t[p + "self_attn.k_proj.weight"] = {{kKv, kHidden}, b};
        t[p + "self_attn.v_proj.weight"] = {{kKv, kHidden}, b};
        t[p + "self_attn.o_proj.weight"] = {{kHidden, kHidden}, b};
        t[p + "mlp.gate_proj.weight"] = {{kInter, kHidden}, b};
        t[p + "mlp.up_proj.weight"] = {{kInter, kHidden}, b};
        t[p + "mlp.down_proj.weight"] = {{kHidden, kInter}, b};
    }
    return t;
}

// Every tensor of a `llama-quantize --pure` GGUF: 2-D tensors in `type`, norms F32.
std::map<std::string, ExpectedTensor> ggufTensors(DType type) {
    std::map<std::string, ExpectedTensor> t;
    const DType f = DType::F32;
    t["token_embd.weight"] = {{kVocab, kHidden}, type};
    t["output.weight"] = {{kVocab, kHidden}, type};
    t["output_norm.weight"] = {{kHidden}, f};
    for (int l = 0; l < kLayers; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        t[p + "attn_norm.weight"] = {{kHidden}, f};
        t[p + "ffn_norm.weight"] = {{kHidden}, f};
        t[p + "attn_q.weight"] = {{kHidden, kHidden}, type};
        t[p + "attn_k.weight"] = {{kKv, kHidden}, type};
        t[p + "attn_v.weight"] = {{kKv, kHidden}, type};
        t[p + "attn_output.weight"] = {{kHidden, kHidden}, type};
        t[p + "ffn_gate.weight"] = {{kInter, kHidden}, type};
        t[p + "ffn_up.weight"] = {{kInter, kHidden}, type};
        t[p + "ffn_down.weight"] = {{kHidden, kInter}, type};
    }
    return t;
}

QString shapeText(const Shape& shape) {
    QStringList parts;
    for (auto d : shape) parts << QString::number(d);
    return parts.join(QStringLiteral(" \u00d7 "));
}

// Bars on display == the core's histogram: one bar per bin at the bin's centre.
void compareBars(const QCPBars* bars, const Histogram& h) {
    const auto shown = test::barsData(bars);
    QCOMPARE(int(shown.size()), h.spec.bins);
    QCOMPARE(bars->width(), h.binWidth());
    for (int i = 0; i < h.spec.bins; ++i) {
        QCOMPARE(shown[std::size_t(i)].first, h.center(i));
        QCOMPARE(shown[std::size_t(i)].second, double(h.counts[std::size_t(i)]));
    }
}

}  // namespace

class LlmWindowTest : public QObject {
    Q_OBJECT
    std::unique_ptr<MainWindow> m_window;

    MainWindow& window() { return *m_window; }
    LlmController* llm() { return window().llmController(); }
    TensorBrowser* browser() { return window().llmMode()->browser(); }

    void open(const std::string& path) {
        QSignalSpy changed(llm(), &LlmController::sessionChanged);
        window().openModel(QString::fromStdString(path));
        QVERIFY2(changed.wait(60000), path.c_str());
        QTRY_VERIFY_WITH_TIMEOUT(llm()->isIdle(), 60000);
    }
    void setFormat(const QString& format) {
        window().settingsOwner()->edit(SettingsField::LlmFormat, format);
    }
    void setAlphaRho(double alpha, double rho) {
        WorkbenchSettings s = window().settings();
        s.plan.defaults.quant.alpha = float(alpha);
        s.plan.defaults.prune.rho = float(rho);
        window().settingsOwner()->editAll(s, "test");
    }

private slots:
    void initTestCase() {
        test::isolateSettings();
        m_window = std::make_unique<MainWindow>();
        m_window->resize(1280, 800);
        m_window->show();
    }

    void opensAndListsTheRightTensors_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("type");  // "" = the Hugging Face folder's bf16
        const QString dir = QString::fromStdString(test::llmFixture("kjv-llama-6m"));
        QTest::newRow("folder") << dir << QString();
        QTest::newRow("config.json") << dir + "/config.json" << QString();
        QTest::newRow("a shard") << dir + "/model-00002-of-00002.safetensors" << QString();
        for (const char* type : {"Q8_0", "Q4_0", "Q4_K", "Q2_K"})
            QTest::newRow(type) << QString::fromStdString(test::llmFixture(
                                       std::string("kjv-llama-6m.") + type + ".gguf"))
                                << QString(type);
    }
    void opensAndListsTheRightTensors() {
        QFETCH(QString, path);
        QFETCH(QString, type);
        open(path.toStdString());
        QVERIFY(window().isLlmMode());
        QCOMPARE(window().llmTabs()->isVisible(), true);
        std::map<std::string, ExpectedTensor> expected;
        if (type.isEmpty()) {
            expected = huggingFaceTensors();
            // The index lists the same names (an independent source for the count).
            QFile index(QString::fromStdString(test::llmFixture("kjv-llama-6m")) +
                        "/model.safetensors.index.json");
            QVERIFY(index.open(QIODevice::ReadOnly));
            const QJsonObject map =
                QJsonDocument::fromJson(index.readAll()).object()["weight_map"].toObject();
            QCOMPARE(qsizetype(map.size()), qsizetype(expected.size()));
            for (const QString& name : map.keys()) QVERIFY(expected.count(name.toStdString()));
        } else {
            DType t{};
            QVERIFY(parseDType(type.toStdString(), t));
            expected = ggufTensors(t);
        }
        QCOMPARE(expected.size(), std::size_t(1 + 1 + 1 + kLayers * 9));
        QStandardItemModel* model = browser()->model();
        QCOMPARE(std::size_t(model->rowCount()), expected.size());
        for (int row = 0; row < model->rowCount(); ++row) {
            const std::string name = model->item(row, TensorBrowser::Name)->text().toStdString();
            const auto it = expected.find(name);
            QVERIFY2(it != expected.end(), name.c_str());
            QCOMPARE(model->item(row, TensorBrowser::Shape)->text(), shapeText(it->second.shape));
            QCOMPARE(model->item(row, TensorBrowser::DTypeColumn)->text().toStdString(),
                     dtypeName(it->second.dtype));
        }
        // The first block matrix is selected and its histograms are on display.
        QVERIFY(llm()->view());
        QVERIFY(!test::barsData(window().llmMode()->tensorPage()->weightPlot()->originalBars())
                     .empty());
    }

    void filtersAndGroups() {
        open(test::llmFixture("kjv-llama-6m"));
        // A llama.cpp pattern on a Hugging Face folder matches llama.cpp's names too.
        for (const QString& pattern : {QString("blk.*.ffn_down"), QString("*q_proj*")}) {
            browser()->setPattern(pattern);
            const QList<int> visible = browser()->visibleTensors();
            QCOMPARE(visible.size(), kLayers);
        }
        browser()->setPattern("model.layers.3.*");
        QCOMPARE(browser()->visibleTensors().size(), 9);
        browser()->setPattern({});
        browser()->setGrouping(TensorBrowser::Grouping::Kind);
        QCOMPARE(browser()->visibleTensors().size(), 57);
        // Selecting the group "MLP down" shows its six tensors together.
        QStandardItemModel* model = browser()->model();
        QStandardItem* group = nullptr;
        for (int r = 0; r < model->rowCount(); ++r)
            if (model->item(r)->text().startsWith("MLP down")) group = model->item(r);
        QVERIFY(group);
        QCOMPARE(group->rowCount(), kLayers);
        QSignalSpy ready(llm(), &LlmController::viewReady);
        browser()->view()->setCurrentIndex(browser()->proxy()->mapFromSource(group->index()));
        QTRY_VERIFY_WITH_TIMEOUT(llm()->isIdle(), 60000);
        QCOMPARE(llm()->view()->roles.size(), kLayers);
        QCOMPARE(llm()->view()->stats.elements, qint64(kLayers) * kHidden * kInter);
        browser()->setGrouping(TensorBrowser::Grouping::None);
    }

    void histogramOnDisplayEqualsCore_data() {
        QTest::addColumn<QString>("format");
        QTest::addColumn<double>("alpha");
        QTest::addColumn<double>("rho");
        QTest::addColumn<QString>("tensor");
        QTest::newRow("Q4_K, ffn_down 0") << "Q4_K" << 0.0 << 0.0 << "blk.0.ffn_down.weight";
        QTest::newRow("Q8_0, attn_k 5") << "Q8_0" << 0.0 << 0.0 << "blk.5.attn_k.weight";
        QTest::newRow("alpha 0.02 rho 0.01, ffn_up 2")
            << "" << 0.02 << 0.01 << "blk.2.ffn_up.weight";
    }
    void histogramOnDisplayEqualsCore() {
        QFETCH(QString, format);
        QFETCH(double, alpha);
        QFETCH(double, rho);
        QFETCH(QString, tensor);
        open(test::llmFixture("kjv-llama-6m"));
        setAlphaRho(alpha, rho);
        setFormat(format);
        browser()->selectTensor(tensor);
        QTRY_VERIFY_WITH_TIMEOUT(llm()->isIdle(), 60000);
        const auto view = llm()->view();
        QVERIFY(view && view->exact);
        QVERIFY(view->compressed);
        // The core on its own: the whole model compressed as `cwb ppl` does, on the same
        // bin edges as the window's view.
        const auto session = llm()->session();
        LlmCompression c;
        if (!format.isEmpty()) {
            DType t{};
            QVERIFY(parseDType(format.toStdString(), t));
            c.format = t;
        } else {
            c.settings.quant.alpha = float(alpha);
            c.settings.prune.rho = float(rho);
        }
        LlmCompressOptions options;
        options.stats.weights = view->stats.original.spec;
        options.stats.error = view->stats.error.spec;
        const LlmCompressionResult core =
            compressLlama(session->config(), session->weights(), c, options);
        const LlmTensorReport* report = nullptr;
        for (const auto& r : core.tensors)
            if (r.name == tensor.toStdString()) report = &r;
        QVERIFY(report);
        auto* page = window().llmMode()->tensorPage();
        compareBars(page->weightPlot()->originalBars(), report->stats.original);
        compareBars(page->weightPlot()->compressedBars(), report->stats.compressed);
        compareBars(page->errorPlot()->bars(), report->stats.error);
        QCOMPARE(view->stats.sqnrDb, report->stats.sqnrDb);
        QCOMPARE(view->bitsPerWeight, report->bitsPerWeight);
        setFormat({});
        setAlphaRho(0, 0);
        QTRY_VERIFY_WITH_TIMEOUT(llm()->isIdle(), 60000);
    }

    void sliderStormEndsOnTheLastSetting() {
        open(test::llmFixture("kjv-llama-6m"));
        browser()->selectTensor("blk.1.ffn_gate.weight");
        QTRY_VERIFY_WITH_TIMEOUT(llm()->isIdle(), 60000);
        SettingsOwner* owner = window().settingsOwner();
        double last = 0;
        for (int i = 0; i < 300; ++i) {
            last = 0.001 + 0.0001 * ((i * 7) % 300);
            owner->edit(SettingsField::Alpha, last);
            if (i % 10 == 0) QCoreApplication::processEvents();
        }
        QCOMPARE(window().settings().plan.defaults.quant.alpha, float(last));
        QTRY_VERIFY_WITH_TIMEOUT(llm()->isIdle(), 60000);
        QCOMPARE(llm()->view()->settings.plan.defaults.quant.alpha, float(last));
        QTRY_COMPARE_WITH_TIMEOUT(LatestWinsLane::liveJobs(), 0, 10000);
        // And the view is the core's for that last alpha.
        LlmCompression c;
        c.settings.quant.alpha = float(last);
        LlmCompressOptions options;
        options.stats.weights = llm()->view()->stats.original.spec;
        options.stats.error = llm()->view()->stats.error.spec;
        const auto session = llm()->session();
        const LlmCompressionResult core =
            compressLlama(session->config(), session->weights(), c, options);
        for (const auto& r : core.tensors)
            if (r.name == "blk.1.ffn_gate.weight") {
                QCOMPARE(llm()->view()->stats.sqnrDb, r.stats.sqnrDb);
                QCOMPARE(llm()->view()->stats.compressed.counts, r.stats.compressed.counts);
            }
        setAlphaRho(0, 0);
        QTRY_VERIFY_WITH_TIMEOUT(llm()->isIdle(), 60000);
    }

    void largeTensorsArePreviewedThenExact() {
        open(test::llmFixture("kjv-llama-6m"));
        llm()->setPreviewElements(20000);  // token_embd has 1M values
        QList<bool> exactness;
        connect(llm(), &LlmController::viewReady, this, [&] { exactness << llm()->view()->exact; });
        setFormat("Q4_0");
        browser()->selectTensor("model.embed_tokens.weight");
        QTRY_VERIFY_WITH_TIMEOUT(llm()->isIdle(), 60000);
        disconnect(llm(), &LlmController::viewReady, this, nullptr);
        QVERIFY(exactness.size() >= 2);
        QCOMPARE(exactness.first(), false);
        QCOMPARE(exactness.last(), true);
        QCOMPARE(llm()->view()->stats.elements, qint64(kVocab) * kHidden);
        llm()->setPreviewElements(1 << 18);
        setFormat({});
        QTRY_VERIFY_WITH_TIMEOUT(llm()->isIdle(), 60000);
    }

    void wholeModelTableAndCsv() {
        open(test::llmFixture("kjv-llama-6m"));
        ModelTablePanel* table = window().llmMode()->modelTable();
        table->setFormats({DType::Q8_0, DType::Q4_0});
        QSignalSpy finished(table, &ModelTablePanel::finished);
        table->start();
        QVERIFY(finished.wait(120000));
        QCOMPARE(finished.first().first().toBool(), true);
        // Every 2-D tensor: the embedding, the output and seven per block.
        QCOMPARE(table->rowsDone(), 2 + 7 * kLayers);
        const QString csvPath = QString::fromStdString(test::tempDir()) + "/table.csv";
        table->saveCsv(csvPath);
        QFile file(csvPath);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(file.readAll()).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 1 + 2 + 7 * kLayers);
        QVERIFY(
            lines[0].startsWith("tensor,llama_name,shape,dtype,elements,stored_bytes,"
                                "Q8_0_sqnr_db,Q8_0_bits_per_weight,Q8_0_bytes,"));
        // Hand-worked: Q8_0 stores 32 values in 34 bytes, Q4_0 in 18.
        const QStringList embed = lines.filter("model.embed_tokens.weight").first().split(',');
        QCOMPARE(embed[2], QString("4096x256"));
        QCOMPARE(embed[4].toLongLong(), qint64(kVocab) * kHidden);
        QCOMPARE(embed[5].toLongLong(), qint64(kVocab) * kHidden * 2);  // bf16
        QCOMPARE(embed[7].toDouble(), 8.5);
        QCOMPARE(embed[8].toLongLong(), qint64(kVocab) * kHidden / 32 * 34);
        QCOMPARE(embed[10].toDouble(), 4.5);
        QCOMPARE(embed[11].toLongLong(), qint64(kVocab) * kHidden / 32 * 18);
        // Q8_0 keeps ~8 bits: its SQNR is far above Q4_0's on every tensor.
        for (int i = 1; i < lines.size(); ++i) {
            const QStringList f = lines[i].split(',');
            QVERIFY2(f[6].toDouble() > f[9].toDouble() + 15, qPrintable(lines[i]));
        }
    }

    // With alpha and rho set, the table gains a column for them, equal to what the tensor
    // view's core route (compressLlmTensor) gives the same tensor.
    void wholeModelTableHasTheSettingsColumn() {
        open(test::llmFixture("kjv-llama-6m"));
        setAlphaRho(0.02, 0.01);
        QTRY_VERIFY_WITH_TIMEOUT(llm()->isIdle(), 60000);
        ModelTablePanel* table = window().llmMode()->modelTable();
        table->setFormats({DType::Q4_0});
        QSignalSpy finished(table, &ModelTablePanel::finished);
        table->start();
        QVERIFY(finished.wait(120000));
        QCOMPARE(table->model()->columnCount(), 3 + 2);
        QVERIFY(table->model()->horizontalHeaderItem(4)->text().contains("0.02"));
        const QStringList lines =
            QString::fromStdString(table->csv()).split('\n', Qt::SkipEmptyParts);
        QVERIFY(lines[0].endsWith("settings_sqnr_db,settings_bits_per_weight,settings_bytes"));
        const QStringList row =
            lines.filter("model.layers.1.mlp.gate_proj.weight").first().split(',');
        for (const LlamaTensorRole& r : llm()->session()->roles)
            if (r.fileName == "model.layers.1.mlp.gate_proj.weight") {
                LlmCompression c;
                c.settings.quant.alpha = 0.02f;
                c.settings.prune.rho = 0.01f;
                LlmTensorOptions options;
                options.stats.histograms = false;
                const LlmTensorReport core = compressLlmTensor(r.llamaName, *r.tensor, c, options);
                QVERIFY2(std::fabs(row[9].toDouble() - core.stats.sqnrDb) <
                             1e-4 * std::fabs(core.stats.sqnrDb),
                         qPrintable(row[9] + " " + QString::number(core.stats.sqnrDb, 'f', 8)));
                QCOMPARE(row[11].toLongLong(), qint64(core.stats.size.bytes));
            }
        setAlphaRho(0, 0);
        QTRY_VERIFY_WITH_TIMEOUT(llm()->isIdle(), 60000);
    }

    void wholeModelTableCancelsWithin200ms() {
        open(test::llmFixture("kjv-llama-6m"));
        ModelTablePanel* table = window().llmMode()->modelTable();
        std::vector<DType> all;
        for (const std::string& name : llmFormatNames()) {
            DType t{};
            parseDType(name, t);
            all.push_back(t);
        }
        table->setFormats(all);
        // Cancelled as the first row arrives (the table is fast enough to finish between two
        // polls of a test loop).
        QElapsedTimer timer;
        int rows = 0;
        connect(llm(), &LlmController::tableRow, this, [&] {
            if (++rows > 1) return;
            QVERIFY(llm()->isTableRunning());
            timer.start();
            table->cancel();
        });
        table->start();
        QTRY_VERIFY_WITH_TIMEOUT(rows >= 1, 60000);
        disconnect(llm(), &LlmController::tableRow, this, nullptr);
        QTRY_VERIFY_WITH_TIMEOUT(llm()->tableLane().isIdle(), 10000);
        QVERIFY2(timer.elapsed() <= test::timeBoundMs(200),
                 qPrintable(QString::number(timer.elapsed())));
        QVERIFY(table->rowsDone() < 2 + 7 * kLayers);
        QVERIFY(table->startButton()->isEnabled());
    }

    // A checkpoint with twelve blocks (cwb synth's small shape, noise weights): the Tensor
    // column sorts names naturally (layers.2 before layers.10), and the alpha and rho sliders
    // take a range of four decades up to the decade above the selected tensor's largest |W|
    // (computed here from its values), then the Keras range again for a Keras model.
    void twelveBlocksSortNaturallyAndSlidersFitTheWeights() {
        const std::string dir = test::tempDir() + "/twelve";
        LlamaConfig config = syntheticShape("small");
        config.layers = 12;
        writeSyntheticCheckpoint(config, dir, {}, {});
        open(dir);
        QTreeView* view = browser()->view();
        view->sortByColumn(TensorBrowser::Name, Qt::AscendingOrder);
        QList<int> layers;
        for (int r = 0; r < browser()->proxy()->rowCount(); ++r) {
            const QString name = browser()->proxy()->index(r, 0).data().toString();
            static const QRegularExpression layer("^model\\.layers\\.(\\d+)\\.");
            const auto m = layer.match(name);
            if (m.hasMatch()) layers << m.captured(1).toInt();
        }
        QCOMPARE(layers.size(), 12 * 9);
        QVERIFY2(std::is_sorted(layers.begin(), layers.end()),
                 qPrintable(QString("layer order: %1 %2 %3 ...")
                                .arg(layers[0])
                                .arg(layers[9])
                                .arg(layers[18])));
        view->sortByColumn(TensorBrowser::Name, Qt::DescendingOrder);
        QCOMPARE(browser()->proxy()->index(0, 0).data().toString().left(16),
                 QString("model.norm.weigh"));

        const std::string name = "model.layers.10.mlp.down_proj.weight";
        browser()->selectTensor(QString::fromStdString(name));
        QTRY_VERIFY_WITH_TIMEOUT(llm()->isIdle(), 60000);
        double maxAbs = 0;
        for (const LlamaTensorRole& r : llm()->session()->roles)
            if (r.fileName == name)
                for (float v : r.tensor->toFloatVector())
                    maxAbs = std::max(maxAbs, double(std::fabs(v)));
        const double top = std::pow(10.0, std::ceil(std::log10(maxAbs)));
        QVERIFY(top < 1.0);  // noise weights: far below the Keras range's top
        for (LogSlider* s :
             {window().controls()->alphaSlider(), window().controls()->rhoSlider()}) {
            QCOMPARE(s->maximum(), top);
            QCOMPARE(s->minimum(), top * 1e-4);
        }
        window().openModel(QString::fromStdString(test::fixture("k2_mlp_dropout_percy.h5")));
        QTRY_VERIFY_WITH_TIMEOUT(!window().isLlmMode(), 60000);
        QCOMPARE(window().controls()->alphaSlider()->maximum(), 1.0);
        QCOMPARE(window().controls()->alphaSlider()->minimum(), 1e-4);
    }

    void distillationSaysNotYetAndKerasSwitchesBack() {
        open(test::llmFixture("kjv-llama-6m"));
        auto* note = window().llmTabs()->findChild<QLabel*>("llmDistillationNote");
        QVERIFY(note);
        QVERIFY(note->text().contains("not available yet"));
        QSignalSpy ready(&window(), &MainWindow::modelReady);
        window().openModel(QString::fromStdString(test::fixture("k2_mlp_dropout_percy.h5")));
        QVERIFY(ready.wait(60000));
        QVERIFY(!window().isLlmMode());
        QVERIFY(!llm()->session());
        QVERIFY(window().tabs()->isVisible());
    }

    void llama2cCheckpointOpensPerLayer() {
        open(test::llmFixture("aidreams260K/aidreams260K.bin"));
        QVERIFY(window().isLlmMode());
        // dim 64, 4 layers: the stacked arrays are listed layer by layer.
        int matrices = 0;
        for (const LlamaTensorRole& r : llm()->session()->roles) matrices += isBlockMatrix(r.kind);
        QCOMPARE(matrices, 4 * 7);
    }

    void cleanupTestCase() { m_window.reset(); }
};

QTEST_MAIN(LlmWindowTest)
#include "llm_window_test.moc"
