// The whole-model table's cells (measureSchemes) on kjv-llama-6m's matrices against two
// independent routes: each block format's blocks written by the reference quantizer, decoded
// and compared in a plain loop, with the size from the format's block bytes worked by hand;
// and the workbench's own schemes (alpha, rho, the textbook rule, k-bit codes) through
// compressLlmTensor, the fused pass and compressModel's encoded size.
#include "core/llm/llm_scheme_table.h"

#include <QtTest>
#include <cmath>

#include "core/io/safetensors.h"
#include "core/llm/llm_compress.h"
#include "core/quant/block_formats.h"
#include "core/quant/quant_rows.h"
#include "core/util/mapped_file.h"
#include "tests/support/test_paths.h"

using namespace cwb;

namespace {

const std::vector<DType> kFormats = {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                                     DType::Q8_0, DType::Q2_K, DType::Q3_K, DType::Q4_K,
                                     DType::Q5_K, DType::Q6_K};

double plainError(DType type, const float* x, std::int64_t n) {
    const auto& f = quant::blockFormat(type);
    std::vector<std::byte> blocks(quant::rowBytes(type, n));
    std::vector<float> back(static_cast<std::size_t>(n));
    f.fromFloatRef(x, blocks.data(), n);
    f.toFloat(blocks.data(), back.data(), n);
    double sum = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
        const double d = double(back[i]) - x[i];
        sum += d * d;
    }
    return sum;
}

std::vector<NamedTensor> firstShard() {
    const std::string path = test::llmFixture("kjv-llama-6m/model-00001-of-00002.safetensors");
    return parseSafetensors(mapFile(path), path);
}

LayerSettings stepRule(float alpha, float rho, bool textbook = false) {
    LayerSettings s;
    s.quant.alpha = alpha;
    s.prune.rho = rho;
    if (textbook) s.prune.method = PruneMethod::TextbookThreshold;
    return s;
}

}  // namespace

class LlmSchemeTableTest : public QObject {
    Q_OBJECT
private slots:
    // The whole-model table's cells against the plain route on the fixture's matrices.
    void schemeTableMatchesPlainRoute() {
        const std::string path = test::llmFixture("kjv-llama-6m/model-00001-of-00002.safetensors");
        int checked = 0;
        for (auto& t : parseSafetensors(mapFile(path), path)) {
            if (t.tensor.shape().size() != 2 || checked == 3) continue;
            ++checked;
            const std::vector<float> all = t.tensor.toFloatVector();
            const std::int64_t rows = t.tensor.shape()[0], cols = t.tensor.shape()[1];
            const auto cells = measureSchemes(t.tensor, kFormats, 2);
            QCOMPARE(cells.size(), kFormats.size());
            double signal = 0.0;
            for (float v : all) signal += double(v) * v;
            for (std::size_t k = 0; k < kFormats.size(); ++k) {
                double error = 0.0;
                for (std::int64_t r = 0; r < rows; ++r)
                    error += plainError(kFormats[k], all.data() + r * cols, cols);
                const double sqnr = 10.0 * std::log10(signal / error);
                QVERIFY2(std::fabs(cells[k].sqnrDb - sqnr) < 1e-9,
                         qPrintable(QString("%1 %2: %3 dB against %4 dB")
                                        .arg(t.name.c_str(), dtypeName(kFormats[k]).c_str())
                                        .arg(cells[k].sqnrDb, 0, 'f', 12)
                                        .arg(sqnr, 0, 'f', 12)));
                const auto bytes = std::uint64_t(rows) * quant::rowBytes(kFormats[k], cols);
                QCOMPARE(cells[k].bytes, bytes);
                QCOMPARE(cells[k].bitsPerWeight, 8.0 * double(bytes) / double(rows * cols));
            }
        }
        QCOMPARE(checked, 3);
    }

    void workbenchSchemesMatchCompressModel_data() {
        QTest::addColumn<float>("alpha");
        QTest::addColumn<float>("rho");
        QTest::addColumn<bool>("textbook");
        QTest::addColumn<int>("bits");
        QTest::newRow("alpha 0.02 rho 0.01") << 0.02f << 0.01f << false << 0;
        QTest::newRow("alpha 0.005") << 0.005f << 0.f << false << 0;
        QTest::newRow("rho 0.03") << 0.f << 0.03f << false << 0;
        QTest::newRow("textbook rho 0.01") << 0.f << 0.01f << true << 0;
        QTest::newRow("4-bit codes (whole tensor)") << 0.f << 0.f << false << 4;
    }
    void workbenchSchemesMatchCompressModel() {
        QFETCH(float, alpha);
        QFETCH(float, rho);
        QFETCH(bool, textbook);
        QFETCH(int, bits);
        LayerSettings settings = stepRule(alpha, rho, textbook);
        settings.quant.bits = bits;
        int checked = 0;
        for (auto& t : firstShard()) {
            if (t.tensor.shape().size() != 2 || checked == 4) continue;
            ++checked;
            const auto cells =
                measureSchemes(t.tensor, {LlmScheme{DType::Q8_0, {}}, {std::nullopt, settings}}, 2);
            LlmCompression c;
            c.settings = settings;
            LlmTensorOptions options;
            options.stats.histograms = false;
            const LlmTensorReport r = compressLlmTensor(t.name, t.tensor, c, options);
            const QString where = QString::fromStdString(t.name);
            QVERIFY2(std::fabs(cells[1].sqnrDb - r.stats.sqnrDb) < 1e-9,
                     qPrintable(where + QString(": %1 dB against %2 dB")
                                            .arg(cells[1].sqnrDb, 0, 'f', 12)
                                            .arg(r.stats.sqnrDb, 0, 'f', 12)));
            QCOMPARE(cells[1].bytes, std::uint64_t(r.stats.size.bytes));
            QCOMPARE(cells[1].bitsPerWeight, r.bitsPerWeight);
        }
        QCOMPARE(checked, 4);
    }

    // Settings that change nothing: the tensor as stored.
    void settingsThatChangeNothingAreTheStoredTensor() {
        for (auto& t : firstShard()) {
            if (t.tensor.shape().size() != 2) continue;
            const auto cells = measureSchemes(t.tensor, {LlmScheme{std::nullopt, {}}}, 1);
            QVERIFY(std::isinf(cells[0].sqnrDb));
            QCOMPARE(cells[0].bytes, std::uint64_t(t.tensor.byteSize()));
            QCOMPARE(cells[0].bitsPerWeight, 16.0);  // bf16
            return;
        }
    }
};

QTEST_APPLESS_MAIN(LlmSchemeTableTest)
#include "llm_scheme_table_test.moc"
