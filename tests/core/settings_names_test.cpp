// Every setting's name, both ways: each value of every settings enum formats to the name
// written here by hand (the spelling of the command line and of remembered settings) and
// parses back to the same value, short forms parse too, and a bad name is refused with one
// line that says what is accepted.
#include <QtTest>

#include "core/compress/compression_settings.h"
#include "core/error.h"
#include "core/measure/sweep.h"

using namespace cwb;

Q_DECLARE_METATYPE(cwb::QuantScheme)
Q_DECLARE_METATYPE(cwb::PruneMethod)
Q_DECLARE_METATYPE(cwb::SparsityScope)
Q_DECLARE_METATYPE(cwb::KernelChoice)
Q_DECLARE_METATYPE(cwb::Granularity)
Q_DECLARE_METATYPE(cwb::ClipMethod)
Q_DECLARE_METATYPE(cwb::SweepParameter)

namespace {
// The message of the cwb::Error that `parse` throws, or "" if it throws none.
template <class F>
QString refusal(F parse) {
    try {
        parse();
    } catch (const Error& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}
}  // namespace

class SettingsNamesTest : public QObject {
    Q_OBJECT
private slots:
    void scheme_data() {
        QTest::addColumn<QuantScheme>("value");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("alias");
        QTest::newRow("symmetric") << QuantScheme::Symmetric << "symmetric"
                                   << "sym";
        QTest::newRow("asymmetric") << QuantScheme::Asymmetric << "asymmetric"
                                    << "asym";
    }
    void scheme() {
        QFETCH(QuantScheme, value);
        QFETCH(QString, name);
        QFETCH(QString, alias);
        QCOMPARE(QString::fromStdString(schemeName(value)), name);
        QVERIFY(parseScheme(name.toStdString()) == value);
        QVERIFY(parseScheme(alias.toStdString()) == value);
    }

    void pruneMethod_data() {
        QTest::addColumn<PruneMethod>("value");
        QTest::addColumn<QString>("name");
        QTest::newRow("none") << PruneMethod::None << "none";
        QTest::newRow("threshold") << PruneMethod::Threshold << "threshold";
        QTest::newRow("textbook") << PruneMethod::TextbookThreshold << "textbook";
        QTest::newRow("sparsity") << PruneMethod::TargetSparsity << "sparsity";
        QTest::newRow("l1") << PruneMethod::StructuredL1 << "l1";
        QTest::newRow("l2") << PruneMethod::StructuredL2 << "l2";
        QTest::newRow("nm") << PruneMethod::NM << "nm";
    }
    void pruneMethod() {
        QFETCH(PruneMethod, value);
        QFETCH(QString, name);
        QCOMPARE(QString::fromStdString(pruneMethodName(value)), name);
        QVERIFY(parsePruneMethod(name.toStdString()) == value);
    }

    void sparsityScope_data() {
        QTest::addColumn<SparsityScope>("value");
        QTest::addColumn<QString>("name");
        QTest::newRow("layer") << SparsityScope::PerLayer << "layer";
        QTest::newRow("global") << SparsityScope::Global << "global";
    }
    void sparsityScope() {
        QFETCH(SparsityScope, value);
        QFETCH(QString, name);
        QCOMPARE(QString::fromStdString(sparsityScopeName(value)), name);
        QVERIFY(parseSparsityScope(name.toStdString()) == value);
    }

    void kernelChoice_data() {
        QTest::addColumn<KernelChoice>("value");
        QTest::addColumn<QString>("name");
        QTest::newRow("auto") << KernelChoice::Auto << "auto";
        QTest::newRow("float") << KernelChoice::Float << "float";
        QTest::newRow("int8") << KernelChoice::Int8 << "int8";
        QTest::newRow("sparse") << KernelChoice::Sparse << "sparse";
    }
    void kernelChoice() {
        QFETCH(KernelChoice, value);
        QFETCH(QString, name);
        QCOMPARE(QString::fromStdString(kernelChoiceName(value)), name);
        QVERIFY(parseKernelChoice(std::string_view(name.toStdString())) == value);
        KernelChoice out = value == KernelChoice::Auto ? KernelChoice::Float : KernelChoice::Auto;
        QVERIFY(parseKernelChoice(name.toStdString(), out));
        QVERIFY(out == value);
    }

    void granularity_data() {
        QTest::addColumn<Granularity>("value");
        QTest::addColumn<int>("groupSize");
        QTest::addColumn<QString>("name");
        QTest::newRow("tensor") << Granularity::Tensor << 0 << "tensor";
        QTest::newRow("channel") << Granularity::Channel << 0 << "channel";
        QTest::newRow("group32") << Granularity::Group << 32 << "group32";
        QTest::newRow("group64") << Granularity::Group << 64 << "group64";
        QTest::newRow("group128") << Granularity::Group << 128 << "group128";
    }
    void granularity() {
        QFETCH(Granularity, value);
        QFETCH(int, groupSize);
        QFETCH(QString, name);
        QCOMPARE(QString::fromStdString(granularityName(value, groupSize)), name);
        int parsedSize = -1;
        QVERIFY(parseGranularity(name.toStdString(), &parsedSize) == value);
        if (value == Granularity::Group) QCOMPARE(parsedSize, groupSize);
        QVERIFY(std::find(granularityNames().begin(), granularityNames().end(),
                          name.toStdString()) != granularityNames().end());
    }

    void clip_data() {
        QTest::addColumn<ClipMethod>("value");
        QTest::addColumn<double>("percentile");
        QTest::addColumn<QString>("name");
        QTest::newRow("none") << ClipMethod::None << 0.0 << "none";
        QTest::newRow("mse") << ClipMethod::Mse << 0.0 << "mse";
        QTest::newRow("p99.9") << ClipMethod::Percentile << 99.9 << "p99.9";
        QTest::newRow("p100") << ClipMethod::Percentile << 100.0 << "p100";
    }
    void clip() {
        QFETCH(ClipMethod, value);
        QFETCH(double, percentile);
        QFETCH(QString, name);
        QCOMPARE(QString::fromStdString(clipName(value, percentile)), name);
        double parsedPercentile = -1;
        QVERIFY(parseClip(name.toStdString(), &parsedPercentile) == value);
        if (value == ClipMethod::Percentile) QCOMPARE(parsedPercentile, percentile);
    }

    void sweepParameter_data() {
        QTest::addColumn<SweepParameter>("value");
        QTest::addColumn<QString>("name");
        QTest::newRow("alpha") << SweepParameter::Alpha << "alpha";
        QTest::newRow("rho") << SweepParameter::Rho << "rho";
    }
    void sweepParameter() {
        QFETCH(SweepParameter, value);
        QFETCH(QString, name);
        QCOMPARE(QString::fromStdString(sweepParameterName(value)), name);
        QVERIFY(parseSweepParameter(name.toStdString()) == value);
    }

    void badNamesAreRefusedWithOneLine() {
        QCOMPARE(refusal([] { parseScheme("symetric"); }),
                 QString("unknown scheme 'symetric'; expected symmetric or asymmetric"));
        QCOMPARE(refusal([] { parseGranularity("group48", nullptr); }),
                 QString("unknown granularity 'group48'; expected tensor, channel, group32, "
                         "group64 or group128"));
        QCOMPARE(refusal([] { parseKernelChoice(std::string_view("gpu")); }),
                 QString("unknown kernel choice 'gpu'; expected auto, float, int8 or sparse"));
        for (const char* bad : {"p0", "p101", "p", "pfoo", "max"})
            QVERIFY2(refusal([bad] { parseClip(bad, nullptr); }).startsWith("unknown clip '"), bad);
        QCOMPARE(refusal([] { parsePruneMethod("Threshold"); }),  // names are lower case
                 QString("unknown pruning method 'Threshold'; expected none, threshold, "
                         "textbook, sparsity, l1, l2 or nm"));
        QCOMPARE(refusal([] { parseSweepParameter("beta"); }),
                 QString("unknown sweep parameter 'beta'; expected alpha or rho"));
        KernelChoice out = KernelChoice::Int8;
        QVERIFY(!parseKernelChoice(std::string("gpu"), out));
        QVERIFY(out == KernelChoice::Int8);  // untouched
    }

    void clearingTheBitWidthKeepsThePlanValid() {
        QuantSettings q;
        q.bits = 4;
        q.granularity = Granularity::Group;
        q.groupSize = 64;
        q.scheme = QuantScheme::Asymmetric;
        q.clip = ClipMethod::Mse;
        q.alpha = 0.25f;
        clearBitWidth(q);
        QuantSettings expected;
        expected.alpha = 0.25f;  // the step stays: it is what bits 0 uses
        QVERIFY(q == expected);
    }
};

QTEST_APPLESS_MAIN(SettingsNamesTest)
#include "settings_names_test.moc"
