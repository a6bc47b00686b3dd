// The float32 CPU engine on hand-built models: against the naive layer-by-layer reference
// forward pass, with and without BatchNormalization folding, for both strategies, batch
// sizes and thread counts; determinism; logits; and evaluate().
#include "core/infer/cpu/cpu_engine.h"

#include <QtTest>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/infer/evaluate.h"
#include "core/infer/plan.h"
#include "core/infer/reference_forward.h"
#include "tests/support/model_builder.h"

using namespace cwb;
using test::ModelBuilder;

namespace {

double maxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
    return worst;
}

std::vector<float> run(InferenceEngine& engine, const std::vector<float>& input, int batch) {
    std::vector<float> out(std::size_t(batch) * engine.outputSize(), -1.f);
    engine.forward(input.data(), batch, out.data());
    return out;
}

// The first CNN fixture's architecture (evanchien): (Conv valid, BN, ReLU, MaxPool same) x3.
ModelBuilder bnCnn(unsigned seed = 1) {
    ModelBuilder b({28, 28, 1}, seed);
    b.conv(1, 32, 3, 1, Padding::Valid)
        .batchNorm(32)
        .activation(ActivationKind::Relu)
        .pool(LayerKind::MaxPooling2D, 2, 2, Padding::Same)
        .conv(32, 64, 3, 1, Padding::Valid)
        .batchNorm(64)
        .activation(ActivationKind::Relu)
        .pool(LayerKind::MaxPooling2D, 2, 2, Padding::Same)
        .conv(64, 128, 3, 1, Padding::Valid)
        .batchNorm(128)
        .activation(ActivationKind::Relu)
        .pool(LayerKind::MaxPooling2D, 2, 2, Padding::Same)
        .layer(LayerKind::Flatten, "Flatten")
        .dense(512, 300, ActivationKind::Relu)
        .layer(LayerKind::Dropout, "Dropout")
        .dense(300, 10, ActivationKind::Softmax);
    return b;
}

std::vector<CpuEngineOptions> allConfigurations() {
    std::vector<CpuEngineOptions> all;
    for (int threads : {1, 2})
        for (auto strategy : {CpuStrategy::BatchSlices, CpuStrategy::WholeBatchBlas})
            for (bool fold : {true, false})
                for (auto algorithm : {cpu::ConvAlgorithm::Auto, cpu::ConvAlgorithm::Im2colGemm}) {
                    if (strategy == CpuStrategy::WholeBatchBlas &&
                        algorithm != cpu::ConvAlgorithm::Auto)
                        continue;
                    CpuEngineOptions o;
                    o.engine.threads = threads;
                    o.strategy = strategy;
                    o.foldBatchNorm = fold;
                    o.convAlgorithm = algorithm;
                    o.chunkImages = threads == 2 ? 3 : 0;  // chunks that do not divide the batch
                    all.push_back(o);
                }
    return all;
}

}  // namespace

class CpuEngineTest : public QObject {
    Q_OBJECT
private slots:
    void cnnMatchesReferenceForward() {
        ModelBuilder b = bnCnn();
        const Model model = b.build();
        for (int batch : {1, 7}) {
            const auto input = b.randomInput(batch);
            const auto expected = referenceForward(model, input.data(), batch);
            for (const auto& options : allConfigurations()) {
                auto engine = makeCpuEngine(model, options);
                QCOMPARE(engine->inputSize(), 784);
                QCOMPARE(engine->outputSize(), 10);
                const auto out = run(*engine, input, batch);
                QVERIFY2(maxAbsDiff(out, expected) < 1e-5,
                         qPrintable(QString("batch %1 threads %2 strategy %3 fold %4: %5")
                                        .arg(batch)
                                        .arg(options.engine.threads)
                                        .arg(int(options.strategy))
                                        .arg(options.foldBatchNorm)
                                        .arg(maxAbsDiff(out, expected))));
            }
        }
    }

    void unusualLayersMatchReferenceForward() {
        // Same-padded strided conv with its own activation, a BatchNormalization that cannot be
        // folded (after an activation), average pooling 'same', a standalone softmax over
        // channels, Reshape, a Dense on a rank-2 input and a final sigmoid Activation.
        ModelBuilder b({28, 28}, 4);
        b.reshape({28, 28, 1})
            .conv(1, 6, 5, 2, Padding::Same, ActivationKind::Tanh)
            .batchNorm(6, false, true)
            .pool(LayerKind::AveragePooling2D, 3, 2, Padding::Same)
            .activation(ActivationKind::Elu)
            .conv(6, 20, 2, 1, Padding::Same, ActivationKind::Linear, false)
            .batchNorm(20, true, false)
            .activation(ActivationKind::Softmax)
            .reshape({-1, 20})
            .dense(20, 7, ActivationKind::LeakyRelu)
            .layer(LayerKind::Flatten, "Flatten")
            .dense(7 * 49, 10)
            .activation(ActivationKind::Sigmoid);
        Model model = b.build();
        model.layers[9].activationAlpha = 0.25f;  // the LeakyReLU Dense
        const auto input = b.randomInput(7);
        const auto expected = referenceForward(model, input.data(), 7);
        for (const auto& options : allConfigurations()) {
            auto engine = makeCpuEngine(model, options);
            QVERIFY2(maxAbsDiff(run(*engine, input, 7), expected) < 1e-5,
                     qPrintable(QString::number(maxAbsDiff(run(*engine, input, 7), expected))));
        }
    }

    void chunksAndGroupsSplitAnywhere() {
        // A small CNN on 300 images: head chunks and tail groups of 128 that do not divide the
        // slices, for every chunk size and thread count.
        ModelBuilder b({12, 12, 1}, 6);
        b.conv(1, 8, 3, 1, Padding::Same, ActivationKind::Relu)
            .pool(LayerKind::MaxPooling2D, 2, 2, Padding::Valid)
            .layer(LayerKind::Flatten, "Flatten")
            .dense(288, 40, ActivationKind::Relu)
            .dense(40, 10, ActivationKind::Softmax);
        const Model model = b.build();
        const auto input = b.randomInput(300);
        const auto expected = referenceForward(model, input.data(), 300);
        for (int threads : {1, 2})
            for (int chunk : {0, 1, 5, 200}) {
                CpuEngineOptions o;
                o.engine.threads = threads;
                o.chunkImages = chunk;
                QVERIFY(maxAbsDiff(run(*makeCpuEngine(model, o), input, 300), expected) < 1e-5);
            }
    }

    void planFoldsAndFuses() {
        const Plan plan = compilePlan(bnCnn().build());
        // conv+bn+relu, pool, x3, dense+relu, dense+softmax: 8 ops, no BatchNormalization left.
        QCOMPARE(int(plan.ops.size()), 8);
        QCOMPARE(int(plan.ops[0].kind), int(OpKind::Conv2D));
        QCOMPARE(int(plan.ops[0].activation.kind), int(ActivationKind::Relu));
        QCOMPARE(int(plan.ops[7].activation.kind), int(ActivationKind::Softmax));
        QCOMPARE(plan.inputSize, 784LL);
        PlanOptions noFold;
        noFold.foldBatchNorm = false;
        QCOMPARE(int(compilePlan(bnCnn().build(), noFold).ops.size()), 11);
    }

    void logitsStopBeforeTheFinalSoftmax() {
        ModelBuilder b = bnCnn(2);
        const Model model = b.build();
        const auto input = b.randomInput(5);
        EngineOptions options;
        options.logits = true;
        auto logitsEngine = makeCpuEngine(model, options);
        const auto logits = run(*logitsEngine, input, 5);
        QVERIFY(maxAbsDiff(logits, referenceForward(model, input.data(), 5, true)) < 1e-5);
        // softmax(logits) must give the normal outputs.
        const auto probs = run(*makeCpuEngine(model), input, 5);
        for (int s = 0; s < 5; ++s) {
            double sum = 0, maxLogit = -1e30;
            for (int i = 0; i < 10; ++i) maxLogit = std::max(maxLogit, double(logits[s * 10 + i]));
            for (int i = 0; i < 10; ++i) sum += std::exp(logits[s * 10 + i] - maxLogit);
            for (int i = 0; i < 10; ++i)
                QVERIFY(std::fabs(std::exp(logits[s * 10 + i] - maxLogit) / sum -
                                  probs[s * 10 + i]) < 1e-6);
        }
        // A standalone Activation('softmax') at the end is dropped too.
        ModelBuilder c({4}, 3);
        c.dense(4, 3).activation(ActivationKind::Softmax);
        const Model m2 = c.build();
        const auto x = c.randomInput(2);
        QVERIFY(maxAbsDiff(run(*makeCpuEngine(m2, options), x, 2),
                           referenceForward(m2, x.data(), 2, true)) < 1e-6);
    }

    void deterministicAtAFixedThreadCount() {
        ModelBuilder b = bnCnn(3);
        const Model model = b.build();
        const auto input = b.randomInput(300);
        for (int threads : {1, 2}) {
            for (auto strategy : {CpuStrategy::BatchSlices, CpuStrategy::WholeBatchBlas}) {
                CpuEngineOptions o;
                o.engine.threads = threads;
                o.strategy = strategy;
                auto engine = makeCpuEngine(model, o);
                const auto first = run(*engine, input, 300);
                for (int repeat = 0; repeat < 3; ++repeat) {
                    const auto again = run(*makeCpuEngine(model, o), input, 300);
                    QVERIFY(std::memcmp(first.data(), again.data(), first.size() * sizeof(float)) ==
                            0);
                    const auto same = run(*engine, input, 300);
                    QVERIFY(std::memcmp(first.data(), same.data(), first.size() * sizeof(float)) ==
                            0);
                }
            }
        }
    }

    void identityModelCopiesInput() {
        ModelBuilder b({2, 3}, 1);
        b.layer(LayerKind::Flatten, "Flatten").layer(LayerKind::Dropout, "Dropout");
        const auto input = b.randomInput(4);
        QCOMPARE(run(*makeCpuEngine(b.build()), input, 4), input);
    }

    void refusesWhatItCannotRun() {
        Model weightsOnly;
        weightsOnly.sourcePath = "w.weights.h5";
        weightsOnly.evaluable = false;
        weightsOnly.notEvaluableReason = "weights only, no architecture";
        try {
            makeCpuEngine(weightsOnly);
            QFAIL("accepted a weights-only model");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("w.weights.h5") &&
                         QString(e.what()).contains("weights only"),
                     e.what());
        }
        ModelBuilder b({8, 8, 1}, 1);
        b.conv(1, 2, 3, 1, Padding::Valid);
        Model bad = b.build();
        bad.layers[0].conv.strideH = 0;
        QVERIFY_THROWS_EXCEPTION(Error, makeCpuEngine(bad));
        ModelBuilder c({4}, 1);
        c.batchNorm(4);
        Model badBn = c.build();
        badBn.layers[0].movingVariance.mutableFloats()[2] = -1.f;
        QVERIFY_THROWS_EXCEPTION(Error, makeCpuEngine(badBn));
    }

    void evaluateCountsBatchesAndCancels() {
        // A 4-pixel "data set" whose label is the brightest pixel, and a model that is the
        // identity on 4 classes: accuracy 1, then labels rotated: accuracy 0.
        ModelBuilder b({2, 2}, 1);
        b.layer(LayerKind::Flatten, "Flatten");
        auto engine = makeCpuEngine(b.build());
        Dataset data;
        data.name = "tiny";
        data.rows = data.cols = 2;
        data.classes = 4;
        for (int i = 0; i < 10; ++i) {
            for (int p = 0; p < 4; ++p) data.images.push_back(p == i % 4 ? 1.f : 0.1f * p);
            data.labels.push_back(std::uint8_t(i % 4));
        }
        std::vector<long long> steps;
        EvalOptions options;
        options.batchSize = 3;
        options.progress.callback = [&](long long done, long long total) {
            steps.push_back(done);
            return total > 0;
        };
        EvalResult r = evaluate(*engine, data, options);
        QCOMPARE(r.samples, 10);
        QCOMPARE(r.correct, 10);
        QCOMPARE(r.accuracy, 1.0);
        QCOMPARE(steps, (std::vector<long long>{3, 6, 9, 10}));
        QCOMPARE(r.predictions[5], 1);
        QVERIFY(r.seconds >= 0);

        for (auto& label : data.labels) label = std::uint8_t((label + 1) % 4);
        options.limit = 4;
        steps.clear();
        r = evaluate(*engine, data, options);
        QCOMPARE(steps, (std::vector<long long>{3, 4}));
        QCOMPARE(r.samples, 4);
        QCOMPARE(r.accuracy, 0.0);

        options.progress.callback = [](long long done, long long) { return done < 6; };
        options.limit = 0;
        QVERIFY_THROWS_EXCEPTION(Cancelled, evaluate(*engine, data, options));

        options.progress = {};
        options.batchSize = 0;
        QVERIFY_THROWS_EXCEPTION(Error, evaluate(*engine, data, options));
        options.batchSize = 2;
        data.rows = 3;
        QVERIFY_THROWS_EXCEPTION(Error, evaluate(*engine, data, options));
    }
};

QTEST_APPLESS_MAIN(CpuEngineTest)
#include "cpu_engine_test.moc"
