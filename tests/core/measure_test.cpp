// The core's one measurement path (core/measure) on a real model and the real test set:
// a progressive accuracy is, chunk by chunk, the accuracy that a direct evaluation of the
// same images gives, and its final figure is the independent one of EXPECTED.md; a sweep's
// rows equal measurements of each setting made on their own (and a direct compress +
// evaluate), and a cancelled sweep stops with the rows done so far.
#include <QtTest>

#include "core/infer/engine.h"
#include "core/infer/evaluate.h"
#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"
#include "core/measure/measurer.h"
#include "core/measure/sweep.h"
#include "tests/support/test_paths.h"

using namespace cwb;

namespace {
const char* kModel = "k2_mlp_dropout_percy.h5";

// Correct predictions on the first `limit` images, by the plain float32 path.
int directCorrect(const Model& model, const Dataset& data, int limit) {
    EvalOptions options;
    options.limit = limit;
    return evaluate(*makeCpuEngine(model), data, options).correct;
}
}  // namespace

class MeasureTest : public QObject {
    Q_OBJECT
    std::shared_ptr<const Model> m_model;
    std::shared_ptr<const Dataset> m_data;

private slots:
    void initTestCase() {
        m_model = std::make_shared<const Model>(loadModel(test::fixture(kModel)));
        m_data = std::make_shared<const Dataset>(loadFashionMnist(test::datasetDir(), Split::Test));
        QCOMPARE(m_data->size(), 10000);
    }

    void progressiveAccuracyEqualsADirectEvaluation() {
        MeasurerOptions options;
        options.chunk = 1000;
        options.batchSize = 250;
        const Measurer measurer(m_model, m_data, options);
        std::vector<Accuracy> partials;
        long long lastDone = -1, calls = 0;
        bool monotonic = true;
        Progress progress;
        progress.callback = [&](long long done, long long total) {
            monotonic = monotonic && done >= lastDone && total == 10000;
            lastDone = done;
            ++calls;
            return true;
        };
        const Accuracy final = measurer.accuracy(*m_model, {}, 0, progress,
                                                 [&](const Accuracy& a) { partials.push_back(a); });
        QCOMPARE(int(partials.size()), 10);  // one per chunk of 1000
        QVERIFY(monotonic);
        QCOMPARE(calls, 40LL);  // one per batch of 250
        for (std::size_t i = 0; i < partials.size(); ++i) {
            QCOMPARE(partials[i].samples, 1000 * int(i + 1));
            QCOMPARE(partials[i].total, 10000);
            QCOMPARE(partials[i].correct, directCorrect(*m_model, *m_data, partials[i].samples));
        }
        QVERIFY(partials.back().done());
        QCOMPARE(final.correct, partials.back().correct);
        // EXPECTED.md (PyTorch): 0.8867 on all 10 000 images, to +-0.0005.
        QVERIFY2(std::abs(final.fraction() - 0.8867) <= 0.0005,
                 qPrintable(QString::number(final.fraction())));
        QCOMPARE(QString::fromStdString(final.engine), QString("cpu float32"));
        QVERIFY(final.seconds > 0);
        // A limit that is not a whole number of chunks.
        const Accuracy part = measurer.accuracy(*m_model, {}, 2500);
        QCOMPARE(part.samples, 2500);
        QCOMPARE(part.correct, directCorrect(*m_model, *m_data, 2500));
    }

    void measuredCompressionMatchesTheIndependentFigure() {
        const Measurer measurer(m_model, m_data);
        // EXPECTED.md: alpha 0.05, rho 0.05 gives 0.8857.
        const Measurement m =
            measurer.measure(CompressionPlan::uniform(0.05f, 0.05f), KernelChoice::Float);
        QCOMPARE(m.accuracy.samples, 10000);
        QVERIFY2(std::abs(m.accuracy.fraction() - 0.8857) <= 0.0005,
                 qPrintable(QString::number(m.accuracy.fraction())));
        QVERIFY(m.total.weights.sparsity > 0.1);
        QCOMPARE(int(m.layers.size()), 4);
    }

    void sweepRowsEqualOneMeasurementEachAndCancelStopsIt() {
        const Measurer measurer(m_model, m_data);
        const int limit = 1000;
        SweepOptions options;
        options.parameter = SweepParameter::Rho;
        options.values = {0.01, 0.05, 0.1, 0.2};
        options.limit = limit;
        CompressionPlan base = CompressionPlan::uniform(0.02f, 0.0f);
        std::vector<SweepRow> seen;
        std::vector<long long> done;
        Progress progress;
        progress.callback = [&](long long d, long long total) {
            if (total != 4LL * limit) return false;
            done.push_back(d);
            return d < 2 * limit + 500;  // cancel halfway through the third row
        };
        QVERIFY_THROWS_EXCEPTION(Cancelled, sweep(measurer, base, options, progress,
                                                  [&](const SweepRow& row, int index) {
                                                      QCOMPARE(index, int(seen.size()));
                                                      seen.push_back(row);
                                                  }));
        QCOMPARE(int(seen.size()), 2);
        QVERIFY(std::is_sorted(done.begin(), done.end()));

        const std::vector<SweepRow> all = sweep(measurer, base, options);
        QCOMPARE(int(all.size()), 4);
        for (std::size_t i = 0; i < all.size(); ++i) {
            const SweepRow& row = all[i];
            QCOMPARE(row.value, options.values[i]);
            // The plan of the row: the base with rho replaced, nothing else.
            CompressionPlan expectedPlan = base;
            expectedPlan.defaults.prune.rho = float(options.values[i]);
            QVERIFY(row.measurement.plan == expectedPlan);
            if (i < seen.size())
                QCOMPARE(seen[i].measurement.accuracy.correct, row.measurement.accuracy.correct);
            // The same setting measured on its own, and by a plain compress + evaluate.
            const Measurement alone = measurer.measure(expectedPlan, KernelChoice::Float, limit);
            QCOMPARE(row.measurement.accuracy.correct, alone.accuracy.correct);
            QCOMPARE(row.measurement.accuracy.samples, limit);
            QCOMPARE(row.measurement.total.encodedBytes, alone.total.encodedBytes);
            QCOMPARE(row.measurement.total.weights.sparsity, alone.total.weights.sparsity);
            const CompressionResult direct = compressModel(*m_model, expectedPlan);
            QCOMPARE(row.measurement.accuracy.correct, directCorrect(direct.model, *m_data, limit));
            QCOMPARE(row.measurement.total.weights.zeros, direct.total.weights.zeros);
        }
        // More pruning, more zeros.
        for (std::size_t i = 1; i < all.size(); ++i)
            QVERIFY(all[i].measurement.total.weights.sparsity >
                    all[i - 1].measurement.total.weights.sparsity);
    }

    void sweepPlansFollowTheParameter() {
        CompressionPlan base;
        base.defaults.quant.bits = 4;
        base.defaults.quant.granularity = Granularity::Channel;
        base.defaults.prune.method = PruneMethod::TextbookThreshold;
        const CompressionPlan a = sweepPlan(base, SweepParameter::Alpha, 0.1);
        QCOMPARE(a.defaults.quant.alpha, 0.1f);
        QCOMPARE(a.defaults.quant.bits, 0);  // a step sweep: no bit width
        QVERIFY(a.defaults.quant.granularity == Granularity::Tensor);
        const CompressionPlan r = sweepPlan(base, SweepParameter::Rho, 0.3);
        QCOMPARE(r.defaults.prune.rho, 0.3f);
        QVERIFY(r.defaults.prune.method == PruneMethod::TextbookThreshold);
        QCOMPARE(r.defaults.quant.bits, 4);
        CompressionPlan sparse = base;
        sparse.defaults.prune.method = PruneMethod::TargetSparsity;
        QVERIFY(sweepPlan(sparse, SweepParameter::Rho, 0.3).defaults.prune.method ==
                PruneMethod::Threshold);
    }

    void valuesAreSpacedAsAsked() {
        QCOMPARE(logSpaced(0.001, 1.0, 4), (std::vector<double>{0.001, 0.01, 0.1, 1.0}));
        QCOMPARE(logSpaced(0.01, 0.04, 3), (std::vector<double>{0.01, 0.02, 0.04}));
        QVERIFY(logSpaced(0.0, 1.0, 5).empty());
        QCOMPARE(linearSpaced(0.0, 0.75, 4), (std::vector<double>{0.0, 0.25, 0.5, 0.75}));
        QCOMPARE(linearSpaced(0.5, 0.9, 1), (std::vector<double>{0.5}));
    }
};

QTEST_APPLESS_MAIN(MeasureTest)
#include "measure_test.moc"
