// Tempered softmax, entropy and the distillation loss against hand-worked values.
#include "core/train/soft_targets.h"

#include <QtTest>
#include <cmath>
#include <random>

using namespace cwb::train;

namespace {

bool near(double a, double b, double tol) { return std::fabs(a - b) <= tol; }

}  // namespace

class SoftTargetsTest : public QObject {
    Q_OBJECT
private slots:
    void textbookSoftmaxAtT1AndT2() {
        const float z[3] = {2.f, 1.f, 0.f};
        double p[3];
        // T = 1: e^2 = 7.389056, e^1 = 2.718282, e^0 = 1; sum 11.107338
        //        -> 7.389056/11.107338 = 0.665241, 0.244728, 0.090031
        softmaxAt(z, 3, 1.0, p);
        QVERIFY(near(p[0], 0.665241, 1e-6) && near(p[1], 0.244728, 1e-6) &&
                near(p[2], 0.090031, 1e-6));
        // Entropy: 0.665241*0.407606 + 0.244728*1.407606 + 0.090031*2.407606 = 0.832396 nats
        QVERIFY(near(entropy(p, 3), 0.832396, 1e-5));
        // T = 2: z/T = 1, 0.5, 0 -> e^1 = 2.718282, e^0.5 = 1.648721, 1; sum 5.367003
        //        -> 0.506480, 0.307196, 0.186324; softer, so higher entropy 1.020191
        softmaxAt(z, 3, 2.0, p);
        QVERIFY(near(p[0], 0.506480, 1e-6) && near(p[1], 0.307196, 1e-6) &&
                near(p[2], 0.186324, 1e-6));
        QVERIFY(near(entropy(p, 3), 1.020191, 1e-5));
        float pf[3];
        softmaxAt(z, 3, 2.0, pf);
        QVERIFY(near(pf[0], 0.506480, 1e-6));
    }

    void kdGradientIsTextbook() {
        // Student logits 0,0,0 (p_s = 1/3 at any T), teacher 2,1,0 at T = 2.
        const float s[3] = {0.f, 0.f, 0.f};
        const float t[3] = {2.f, 1.f, 0.f};
        float g[3];
        // Pure KD (lambda = 1): dL/ds = T (p_s - p_t) = 2 (1/3 - [0.506480, 0.307196, 0.186324])
        //                              = -0.346294, 0.052275, 0.294019
        double loss = distillationLoss(s, t, 3, 0, 2.0, 1.0, g);
        QVERIFY(near(g[0], -0.346294, 1e-5) && near(g[1], 0.052275, 1e-5) &&
                near(g[2], 0.294019, 1e-5));
        // L = T^2 KL(p_t || p_s) = 4 * sum p_t ln(3 p_t) = 4 * 0.078421 = 0.313684
        QVERIFY(near(loss, 0.313684, 1e-5));
        // lambda = 0.5, label 0: 0.5 * the above + 0.5 * (1/3 - [1, 0, 0]) = -0.506480, 0.192804,
        // 0.313676
        loss = distillationLoss(s, t, 3, 0, 2.0, 0.5, g);
        QVERIFY(near(g[0], -0.506480, 1e-5) && near(g[1], 0.192804, 1e-5) &&
                near(g[2], 0.313676, 1e-5));
        // 0.5 * 0.313684 + 0.5 * ln 3 (= 1.098612) = 0.706148
        QVERIFY(near(loss, 0.706148, 1e-5));
        // lambda = 0 is plain cross-entropy.
        float gce[3];
        const double ce = crossEntropyWithLogits(s, 3, 0, gce);
        loss = distillationLoss(s, t, 3, 0, 2.0, 0.0, g);
        QVERIFY(near(loss, ce, 1e-12) && near(ce, std::log(3.0), 1e-9));
        for (int i = 0; i < 3; ++i) QCOMPARE(g[i], gce[i]);
    }

    void kdGradientMatchesFiniteDifferences() {
        std::mt19937 rng(3);
        std::normal_distribution<float> normal(0.f, 2.f);
        for (double T : {0.5, 1.0, 3.0, 8.0}) {
            for (double lambda : {0.0, 0.3, 1.0}) {
                float s[10], t[10], g[10];
                for (int i = 0; i < 10; ++i) s[i] = normal(rng), t[i] = normal(rng);
                distillationLoss(s, t, 10, 4, T, lambda, g);
                for (int i = 0; i < 10; ++i) {
                    const float saved = s[i];
                    s[i] = saved + 1e-2f;
                    const double up = s[i], lUp = distillationLoss(s, t, 10, 4, T, lambda, nullptr);
                    s[i] = saved - 1e-2f;
                    const double down = s[i],
                                 lDown = distillationLoss(s, t, 10, 4, T, lambda, nullptr);
                    s[i] = saved;
                    const double numeric = (lUp - lDown) / (up - down);
                    QVERIFY2(near(g[i], numeric, 1e-4 + 1e-3 * std::fabs(numeric)),
                             qPrintable(QString("T %1 lambda %2 i %3: %4 vs %5")
                                            .arg(T)
                                            .arg(lambda)
                                            .arg(i)
                                            .arg(g[i])
                                            .arg(numeric)));
                }
            }
        }
    }

    void highTemperatureApproachesUniform() {
        const float z[4] = {5.f, -3.f, 1.f, 0.5f};
        double p[4];
        softmaxAt(z, 4, 1e4, p);
        for (double v : p) QVERIFY(near(v, 0.25, 1e-3));
        QVERIFY(near(entropy(p, 4), std::log(4.0), 1e-5));
        // And very low T approaches one-hot on the largest logit.
        softmaxAt(z, 4, 0.05, p);
        QVERIFY(p[0] > 0.999999);
    }

    void entropyRisesMonotonicallyWithT() {
        std::mt19937 rng(4);
        std::normal_distribution<float> normal(0.f, 3.f);
        for (int trial = 0; trial < 20; ++trial) {
            float z[10];
            for (float& v : z) v = normal(rng);
            double previous = -1.0, p[10];
            for (double T = 0.25; T <= 50.0; T *= 1.1) {
                softmaxAt(z, 10, T, p);
                const double h = entropy(p, 10);
                QVERIFY2(h > previous,
                         qPrintable(QString("T %1: %2 <= %3").arg(T).arg(h).arg(previous)));
                previous = h;
            }
        }
    }
};

QTEST_APPLESS_MAIN(SoftTargetsTest)
#include "soft_targets_test.moc"
