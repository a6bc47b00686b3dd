// Per-layer sensitivity on a real model: one row per compressible layer, each the accuracy
// with only that layer compressed (recomputed here through the plan's onlyLayer), sorted
// most sensitive first.
#include "core/stats/sensitivity.h"

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
        const Dataset data = loadFashionMnist(test::datasetDir(), Split::Test, 1000);
        const Model model = loadModel(test::fixture("k2_mlp_dropout_percy.h5"));
        const CompressionPlan plan = CompressionPlan::uniform(0.1f, 0.08f);
        SensitivityOptions options;
        options.limit = 600;
        long long calls = 0;
        options.progress.callback = [&](long long, long long) { return ++calls > 0; };
        const auto result = layerSensitivity(model, plan, data, options);
        QCOMPARE(result.samples, 600);
        QCOMPARE(result.rows.size(), std::size_t(4));  // 784-256-128-64-10
        QVERIFY(calls >= 6);
        EvalOptions eo;
        eo.limit = 600;
        QCOMPARE(result.baseline, evaluate(*makeCpuEngine(model), data, eo).accuracy);
        for (std::size_t i = 0; i < result.rows.size(); ++i) {
            const auto& row = result.rows[i];
            if (i) QVERIFY(result.rows[i - 1].accuracy <= row.accuracy);
            CompressionPlan single = plan;
            single.onlyLayer = row.name;
            const auto compressed = compressModel(model, single);
            QCOMPARE(row.accuracy, evaluate(*makeCpuEngine(compressed.model), data, eo).accuracy);
            QCOMPARE(row.drop, result.baseline - row.accuracy);
            QVERIFY(row.sparsity > 0.0);
        }
        // Cancelling stops it.
        options.progress.callback = [](long long done, long long) { return done < 2; };
        QVERIFY_THROWS_EXCEPTION(Cancelled, layerSensitivity(model, plan, data, options));
    }
};

QTEST_APPLESS_MAIN(SensitivityTest)
#include "sensitivity_test.moc"
