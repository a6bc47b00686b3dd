// Per-layer sensitivity on a real model: one row per compressible layer, each the accuracy
// with only that layer compressed (recomputed here through the plan's onlyLayer, with a
// plain compress + evaluate), sorted most sensitive first.
#include "core/measure/sensitivity.h"

#include <QtTest>

#include "core/compress/compress_model.h"
#include "core/infer/engine.h"
#include "core/infer/evaluate.h"
#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"
#include "tests/support/test_paths.h"

using namespace cwb;

class SensitivityTest : public QObject {
    Q_OBJECT
private slots:
    void tableIsSortedAndMatchesSingleLayerRuns() {
        auto data = std::make_shared<const Dataset>(
            loadFashionMnist(test::datasetDir(), Split::Test, 1000));
        auto model =
            std::make_shared<const Model>(loadModel(test::fixture("k2_mlp_dropout_percy.h5")));
        const Measurer measurer(model, data);
        const CompressionPlan plan = CompressionPlan::uniform(0.1f, 0.08f);
        SensitivityOptions options;
        options.limit = 600;
        long long calls = 0, last = -1;
        bool monotonic = true;
        Progress progress;
        progress.callback = [&](long long done, long long total) {
            monotonic = monotonic && done >= last && total == 6 * 600;  // 2 + 4 layers
            last = done;
            return ++calls > 0;
        };
        const auto result = layerSensitivity(measurer, plan, options, progress);
        QCOMPARE(result.samples, 600);
        QCOMPARE(result.rows.size(), std::size_t(4));  // 784-256-128-64-10
        QVERIFY(calls >= 6);
        QVERIFY(monotonic);
        QCOMPARE(last, 6LL * 600);
        EvalOptions eo;
        eo.limit = 600;
        QCOMPARE(result.baseline, evaluate(*makeCpuEngine(*model), *data, eo).accuracy);
        QCOMPARE(result.allCompressed,
                 evaluate(*makeCpuEngine(compressModel(*model, plan).model), *data, eo).accuracy);
        for (std::size_t i = 0; i < result.rows.size(); ++i) {
            const auto& row = result.rows[i];
            if (i) QVERIFY(result.rows[i - 1].accuracy <= row.accuracy);
            CompressionPlan single = plan;
            single.onlyLayer = row.name;
            const auto compressed = compressModel(*model, single);
            QCOMPARE(row.accuracy, evaluate(*makeCpuEngine(compressed.model), *data, eo).accuracy);
            QCOMPARE(row.drop, result.baseline - row.accuracy);
            QVERIFY(row.sparsity > 0.0);
        }
        // Cancelling stops it, within the first evaluation.
        progress.callback = [](long long done, long long) { return done < 2; };
        QVERIFY_THROWS_EXCEPTION(Cancelled, layerSensitivity(measurer, plan, options, progress));
    }
};

QTEST_APPLESS_MAIN(SensitivityTest)
#include "sensitivity_test.moc"
