// The temperature slider's preview against hand-worked values.
#include "core/train/temperature_preview.h"

#include <QtTest>
#include <cmath>

#include "core/error.h"

using namespace cwb;
using namespace cwb::train;

class TemperaturePreviewTest : public QObject {
    Q_OBJECT
private slots:
    void handWorkedBatch() {
        // Image 0: logits 2, 1, 0. Image 1: 0, 0, 0 (uniform at every T).
        TemperaturePreviewer previewer({2.f, 1.f, 0.f, 0.f, 0.f, 0.f}, 3);
        QCOMPARE(previewer.samples(), 2);
        const TemperaturePreview p = previewer.at(2.0, 2);
        // At T = 2: 0.506480, 0.307196, 0.186324 (e^1, e^0.5, e^0 over 5.367003).
        QVERIFY(std::fabs(p.probabilities[0] - 0.506480f) < 1e-6);
        QVERIFY(std::fabs(p.probabilities[1] - 0.307196f) < 1e-6);
        QVERIFY(std::fabs(p.probabilities[2] - 0.186324f) < 1e-6);
        for (int c = 3; c < 6; ++c) QVERIFY(std::fabs(p.probabilities[c] - 1.f / 3.f) < 1e-7);
        // Entropies 1.020191 and ln 3 = 1.098612; mean 1.059402.
        QVERIFY(std::fabs(p.entropy[0] - 1.020191) < 1e-5);
        QVERIFY(std::fabs(p.meanEntropy - 1.059402) < 1e-5);
        QVERIFY(std::fabs(p.maxEntropy - std::log(3.0)) < 1e-12);
        QVERIFY(std::fabs(p.meanTopProbability - (0.506480 + 1.0 / 3.0) / 2) < 1e-6);
        QCOMPARE(int(p.topK[0].size()), 2);
        QCOMPARE(p.topK[0][0].classIndex, 0);
        QCOMPARE(p.topK[0][1].classIndex, 1);
        QVERIFY(std::fabs(p.topK[0][1].probability - 0.307196f) < 1e-6);
        QCOMPARE(p.topK[1][0].classIndex, 0);  // ties: the lower class first
        QCOMPARE(p.topK[1][1].classIndex, 1);
        // k beyond the class count is clipped.
        QCOMPARE(int(previewer.at(1.0, 10).topK[0].size()), 3);
    }

    void entropyCurveRisesTowardUniform() {
        TemperaturePreviewer previewer({6.f, 1.f, -2.f, 0.5f, 3.f, -1.f, 0.f, 2.f}, 4);
        const auto curve = previewer.meanEntropyCurve({0.5, 1, 2, 4, 8, 16, 1000});
        for (std::size_t i = 1; i < curve.size(); ++i) QVERIFY(curve[i] > curve[i - 1]);
        QVERIFY(std::fabs(curve.back() - std::log(4.0)) < 1e-4);
    }

    void refusesBadInput() {
        QVERIFY_THROWS_EXCEPTION(Error, TemperaturePreviewer({1.f, 2.f, 3.f}, 2));
        TemperaturePreviewer ok({1.f, 2.f}, 2);
        QVERIFY_THROWS_EXCEPTION(Error, ok.at(0.0));
        QVERIFY_THROWS_EXCEPTION(Error, ok.at(-1.0));
        QVERIFY_THROWS_EXCEPTION(Error, ok.at(NAN));
        QVERIFY_THROWS_EXCEPTION(Error, ok.at(1.0, 0));
    }
};

QTEST_APPLESS_MAIN(TemperaturePreviewTest)
#include "temperature_preview_test.moc"
