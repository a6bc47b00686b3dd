// The training graph's inference-mode forward pass on the real fixture models, against the
// outputs an independent implementation (PyTorch) computed (tests/fixtures/models/EXPECTED.md):
// the teacher-side layers (valid convolutions, 'same' max pooling, BatchNormalization with
// moving statistics, Dropout at inference) are the same code that trains.
#include <QtTest>
#include <fstream>
#include <sstream>

#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"
#include "core/train/soft_targets.h"
#include "core/train/training_graph.h"
#include "tests/support/test_paths.h"

using namespace cwb;
using namespace cwb::train;

namespace {

std::vector<std::vector<double>> readCsv(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::vector<double>> rows;
    std::string line;
    while (std::getline(in, line)) {
        std::vector<double> row;
        std::stringstream cells(line);
        std::string cell;
        while (std::getline(cells, cell, ',')) row.push_back(std::stod(cell));
        if (!row.empty()) rows.push_back(row);
    }
    return rows;
}

}  // namespace

class TrainForwardFixtureTest : public QObject {
    Q_OBJECT
private slots:
    void matchesIndependentOutputs_data() {
        QTest::addColumn<QString>("file");
        QTest::newRow("k2 cnn bn") << "k2_cnn_bn_evanchien";
        QTest::newRow("k2 mlp dropout") << "k2_mlp_dropout_percy";
        QTest::newRow("k3 legacy mlp") << "k3legacy_mlp_ntu113";
        QTest::newRow("k3 cnn") << "k3_cnn_umer";
    }
    void matchesIndependentOutputs() {
        QFETCH(QString, file);
        const std::string base = test::fixture(file.toStdString());
        const std::string path = base + (file.startsWith("k3_") ? ".keras" : ".h5");
        const auto expected = readCsv(base + ".outputs100.csv");
        QCOMPARE(int(expected.size()), 100);
        const Dataset data = loadFashionMnist(test::datasetDir(), Split::Test, 100);

        Model model = loadModel(path);
        TrainingGraph probabilities(model, {/*logits*/ false, false});
        const float* out = probabilities.forward(data.images.data(), 100, {});
        for (int i = 0; i < 100; ++i)
            for (int c = 0; c < 10; ++c)
                QVERIFY2(std::fabs(out[i * 10 + c] - expected[i][c]) < 1e-4,
                         qPrintable(QString("image %1 class %2: %3 vs %4")
                                        .arg(i)
                                        .arg(c)
                                        .arg(out[i * 10 + c])
                                        .arg(expected[i][c])));

        // The logits graph stops before the softmax: softmax(logits) gives the same outputs.
        Model again = loadModel(path);
        TrainingGraph logits(again);
        const float* z = logits.forward(data.images.data(), 100, {});
        double p[10];
        double largestLogit = 0;
        for (int i = 0; i < 100; ++i) {
            softmaxAt(z + i * 10, 10, 1.0, p);
            for (int c = 0; c < 10; ++c) {
                QVERIFY(std::fabs(p[c] - expected[i][c]) < 1e-4);
                largestLogit = std::max(largestLogit, std::fabs(double(z[i * 10 + c])));
            }
        }
        QVERIFY(largestLogit > 1.0);  // logits, not probabilities
    }
};

QTEST_APPLESS_MAIN(TrainForwardFixtureTest)
#include "train_forward_fixture_test.moc"
