// The training loop on real Fashion-MNIST data: it learns, it is bitwise reproducible for a
// seed and thread count, it cancels and reports per batch, and it refuses misfits.
#include "core/train/trainer.h"

#include <QtTest>
#include <cstring>

#include "core/error.h"
#include "core/train/arch_spec.h"
#include "tests/support/test_paths.h"

using namespace cwb;
using namespace cwb::train;

namespace {

const Dataset& trainSubset() {
    static const Dataset data = loadFashionMnist(test::datasetDir(), Split::Train, 3000);
    return data;
}
const Dataset& testSubset() {
    static const Dataset data = loadFashionMnist(test::datasetDir(), Split::Test, 2000);
    return data;
}

// Every parameter and moving statistic, concatenated.
std::vector<float> allWeights(const Model& m) {
    std::vector<float> w;
    for (const auto& l : m.layers)
        for (const Tensor* t :
             {&l.kernel, &l.bias, &l.gamma, &l.beta, &l.movingMean, &l.movingVariance})
            if (!t->empty()) w.insert(w.end(), t->floats().begin(), t->floats().end());
    return w;
}

Model trained(const std::string& spec, std::uint64_t seed, int threads, float dropout = 0.f) {
    ArchOptions arch;
    arch.seed = seed;
    arch.dropout = dropout;
    Model m = buildModel(spec, arch);
    TrainOptions o;
    o.epochs = 1;
    o.batchSize = 32;
    o.seed = seed;
    o.threads = threads;
    trainModel(m, trainSubset(), nullptr, o);
    return m;
}

bool bitwiseEqual(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

class TrainerTest : public QObject {
    Q_OBJECT
private slots:
    void learnsFashionMnist() {
        ArchOptions arch;
        Model m = buildModel("mlp:64", arch);
        const Evaluation before = evaluateModel(m, testSubset());
        TrainOptions o;
        o.epochs = 2;
        o.threads = 2;
        const TrainResult r = trainModel(m, trainSubset(), &testSubset(), o);
        QCOMPARE(int(r.epochs.size()), 2);
        // 3000 images, two epochs: well above chance (0.1) and above the untrained net.
        QVERIFY2(r.epochs.back().testAccuracy > 0.74,
                 qPrintable(QString::number(r.epochs.back().testAccuracy)));
        QVERIFY(r.epochs.back().testLoss < r.epochs.front().testLoss);
        QVERIFY(before.accuracy < 0.3);
        // evaluateModel reproduces the trainer's end-of-epoch figures.
        const Evaluation after = evaluateModel(m, testSubset());
        QCOMPARE(after.samples, 2000);
        QVERIFY(std::fabs(after.accuracy - r.epochs.back().testAccuracy) < 1e-12);
        QVERIFY(std::fabs(after.loss - r.epochs.back().testLoss) < 1e-9);
    }

    void sameSeedAndThreadsIsBitwiseIdentical_data() {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<float>("dropout");
        QTest::addColumn<int>("threads");
        QTest::newRow("mlp dropout 2 threads") << "mlp:48,32" << 0.3f << 2;
        QTest::newRow("cnn-bn 2 threads") << "cnn-bn:4/16" << 0.2f << 2;
        QTest::newRow("cnn-bn 1 thread") << "cnn-bn:4/16" << 0.f << 1;
    }
    void sameSeedAndThreadsIsBitwiseIdentical() {
        QFETCH(QString, spec);
        QFETCH(float, dropout);
        QFETCH(int, threads);
        const auto a = allWeights(trained(spec.toStdString(), 5, threads, dropout));
        const auto b = allWeights(trained(spec.toStdString(), 5, threads, dropout));
        QVERIFY(bitwiseEqual(a, b));
        const auto c = allWeights(trained(spec.toStdString(), 6, threads, dropout));
        QVERIFY(!bitwiseEqual(a, c));
    }

    void reportsEveryBatchAndCancels() {
        Model m = buildModel("mlp:16");
        TrainOptions o;
        o.epochs = 2;
        o.batchSize = 100;
        int batches = 0;
        long long lastDone = 0, lastTotal = 0;
        TrainCallbacks cb;
        cb.onBatch = [&](const BatchReport& b) {
            ++batches;
            QCOMPARE(b.batch, batches);
            QCOMPARE(b.batches, 30);
            QVERIFY(b.loss > 0 && b.accuracy >= 0 && b.accuracy <= 1);
        };
        cb.progress.callback = [&](long long done, long long total) {
            lastDone = done;
            lastTotal = total;
            return done < 7;
        };
        const auto before = allWeights(m);
        QVERIFY_THROWS_EXCEPTION(Cancelled, trainModel(m, trainSubset(), &testSubset(), o, cb));
        QCOMPARE(batches, 7);
        QCOMPARE(lastDone, 7LL);
        QCOMPARE(lastTotal, 60LL);
        QVERIFY(!bitwiseEqual(before, allWeights(m)));  // the finished batches stay applied
    }

    void refusesModelsThatDoNotFit() {
        ArchOptions five;
        five.classes = 5;
        Model m = buildModel("mlp:8", five);
        TrainOptions o;
        try {
            trainModel(m, trainSubset(), nullptr, o);
            QFAIL("expected an error");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("5 outputs"), e.what());
        }
        ArchOptions small;
        small.inputShape = {14, 14};
        Model s = buildModel("mlp:8", small);
        QVERIFY_THROWS_EXCEPTION(Error, trainModel(s, trainSubset(), nullptr, o));
        o.epochs = 0;
        Model ok = buildModel("mlp:8");
        QVERIFY_THROWS_EXCEPTION(Error, trainModel(ok, trainSubset(), nullptr, o));
    }

    void archSpecs() {
        Model cnn = buildModel("cnn-bn:32,64/128");
        QStringList names;
        for (const auto& l : cnn.layers) names << QString::fromStdString(l.name);
        QCOMPARE(
            names.join(","),
            QString("conv2d,batch_normalization,activation,max_pooling2d,conv2d_1,"
                    "batch_normalization_1,activation_1,max_pooling2d_1,flatten,dense,dense_1"));
        QCOMPARE(cnn.outputShape(), (Shape{10}));
        QCOMPARE(cnn.layers[8].outputShape, (Shape{7 * 7 * 64}));
        // Glorot uniform: |w| <= sqrt(6 / (fan_in + fan_out)) and not all zero.
        const float limit = std::sqrt(6.f / (784 + 256));
        Model mlp = buildModel("mlp:256,128");
        float largest = 0;
        for (float w : mlp.layers[1].kernel.floats()) largest = std::max(largest, std::fabs(w));
        QVERIFY(largest <= limit && largest > 0.9f * limit);
        QCOMPARE(mlp.parameterCount(), 784LL * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
        for (const char* bad : {"mlp", "mlp:", "mlp:0", "mlp:12,", "mlp:1/2", "cnn:/64", "cnn:32/",
                                "rnn:4", "cnn:32,32,32,32,32/8", "mlp:-4", "mlp:9999999"}) {
            try {
                buildModel(bad);
                QFAIL(bad);
            } catch (const Error& e) {
                QVERIFY2(QString(e.what()).startsWith("invalid architecture"), e.what());
                QVERIFY(!QString(e.what()).contains('\n'));
            }
        }
    }
};

QTEST_APPLESS_MAIN(TrainerTest)
#include "trainer_test.moc"
