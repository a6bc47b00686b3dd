// The small pieces under the window, against hand-worked figures: the log slider's mapping,
// the settings owner (undo merging by field id, no edit pushed back into the panel that
// sent it), settings persistence, the CSV table, the Pareto front, the Wilson interval,
// and the fields -> CompressionPlan translation.
#include <QSlider>
#include <QUndoStack>
#include <QtTest>

#include "tests/ui/ui_test_support.h"
#include "ui/panels/log_slider.h"
#include "ui/settings/evaluation_history.h"
#include "ui/settings/settings_owner.h"
#include "ui/settings/settings_store.h"
#include "ui/settings/settings_undo.h"
#include "ui/util/csv_file.h"
#include "ui/worker/wilson.h"

using namespace cwb;
using namespace cwb::ui;

namespace {
EvaluatedPoint point(double alpha, double rho, double accuracy, double sizeBytes) {
    EvaluatedPoint p;
    p.settings.plan.defaults.quant.alpha = float(alpha);
    p.settings.plan.defaults.prune.rho = float(rho);
    p.accuracy = accuracy;
    p.sizeBytes = sizeBytes;
    p.samples = 10000;
    return p;
}
// A stand-in for a panel: it reports edits and records what the owner shows it.
class FakePanel : public QObject {
    Q_OBJECT
public:
    QList<SettingsField> shown;
    void showSettings(const WorkbenchSettings&, SettingsField field) { shown << field; }
    void send(SettingsField field, const QVariant& value) { emit fieldEdited(field, value); }
signals:
    void fieldEdited(SettingsField field, const QVariant& value);
};

float alphaOf(const SettingsOwner& o) { return o.settings().plan.defaults.quant.alpha; }
}  // namespace

class SettingsTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { test::isolateSettings(); }

    void logSliderCoversDecadesEvenly() {
        LogSlider s(1e-4, 1.0, true, 5);
        QCOMPARE(s.valueAt(0), 0.0);  // the "off" position
        QCOMPARE(s.valueAt(1), 1e-4);
        QCOMPARE(s.valueAt(LogSlider::kSteps), 1.0);
        // Four decades over kSteps - 1 steps: the middle of the travel is 1e-2, a decade is 100
        // steps.
        QCOMPARE(s.valueAt(1 + (LogSlider::kSteps - 1) / 2), 0.01);
        QCOMPARE(s.valueAt(101), 1e-3);
        for (int pos : {1, 37, 200, 201, 400, 401}) QCOMPARE(s.positionOf(s.valueAt(pos)), pos);
        QSignalSpy edited(&s, &LogSlider::valueEdited);
        s.setValue(0.05);  // programmatic: no signal
        QCOMPARE(edited.count(), 0);
        QCOMPARE(s.value(), 0.05);
        s.slider()->setValue(0);  // user: one signal, value off
        QCOMPARE(edited.count(), 1);
        QCOMPARE(edited.first().first().toDouble(), 0.0);
    }

    void undoMergesByFieldId() {
        SettingsOwner owner;
        QUndoStack& stack = *owner.undoStack();
        for (double a : {0.01, 0.02, 0.03, 0.04}) owner.edit(SettingsField::Alpha, a);
        QCOMPARE(stack.count(), 1);  // one drag, one step
        owner.edit(SettingsField::Rho, 0.1);
        QCOMPARE(stack.count(), 2);  // another field, another step
        owner.edit(SettingsField::Alpha, 0.05);
        QCOMPARE(stack.count(), 3);  // alpha again, after rho: not merged into the first
        stack.undo();
        QCOMPARE(alphaOf(owner), 0.04f);
        stack.undo();
        QCOMPARE(owner.settings().plan.defaults.prune.rho, 0.0f);
        QCOMPARE(alphaOf(owner), 0.04f);
        stack.undo();
        QCOMPARE(alphaOf(owner), 0.0f);
        stack.redo();
        QCOMPARE(alphaOf(owner), 0.04f);

        // The id is the field's, whatever the label says: two fields under one label do not
        // merge, one field under two labels does.
        QUndoStack raw;
        WorkbenchSettings current;
        auto apply = [&current](const WorkbenchSettings& s, const QObject*) { current = s; };
        auto push = [&](SettingsField field, const QVariant& value, const QString& label) {
            WorkbenchSettings next = current;
            QVERIFY(setFieldValue(next, field, value));
            raw.push(new SetSettingsCommand(current, next, field, label, nullptr, apply));
        };
        push(SettingsField::Alpha, 0.01, "slider");
        push(SettingsField::Rho, 0.02, "slider");
        QCOMPARE(raw.count(), 2);
        push(SettingsField::Rho, 0.03, "\u03c1");
        QCOMPARE(raw.count(), 2);
        QCOMPARE(current.plan.defaults.prune.rho, 0.03f);
        // Choices of layers, and several fields at once, never merge.
        push(SettingsField::OnlyLayer, QStringLiteral("dense"), "only");
        push(SettingsField::OnlyLayer, QStringLiteral("dense_1"), "only");
        QCOMPARE(raw.count(), 4);
        raw.push(new SetSettingsCommand(current, WorkbenchSettings{}, std::nullopt, "reset",
                                        nullptr, apply));
        raw.push(new SetSettingsCommand(current, current, std::nullopt, "reset", nullptr, apply));
        QCOMPARE(raw.count(), 6);
    }

    void aDragBackToItsStartLeavesNoStep() {
        SettingsOwner owner;
        owner.edit(SettingsField::Rho, 0.2);
        owner.edit(SettingsField::Rho, 0.0);
        QCOMPARE(owner.undoStack()->count(), 0);
        QCOMPARE(owner.settings().plan.defaults.prune.rho, 0.0f);
    }

    void editsAreNotPushedBackIntoTheirPanel() {
        SettingsOwner owner;
        FakePanel controls, other;
        owner.attach(&controls);
        owner.attach(&other);
        const int fields = int(std::size(kSettingsFields));
        QCOMPARE(controls.shown.size(), fields);  // every field shown once on attaching
        controls.shown.clear();
        other.shown.clear();
        QSignalSpy applied(&owner, &SettingsOwner::applied);

        controls.send(SettingsField::Alpha, 0.05);
        QCOMPARE(alphaOf(owner), 0.05f);
        QVERIFY(controls.shown.isEmpty());  // it shows the value already
        QCOMPARE(other.shown, QList<SettingsField>{SettingsField::Alpha});
        QCOMPARE(applied.count(), 1);

        // Bits, then back to the step: what follows from the edit (granularity back to per
        // tensor) is news to the sender too; the bit width itself is not.
        controls.send(SettingsField::Bits, 4);
        controls.send(SettingsField::Granularity, QStringLiteral("channel"));
        controls.shown.clear();
        other.shown.clear();
        controls.send(SettingsField::Bits, 0);
        QCOMPARE(controls.shown, QList<SettingsField>{SettingsField::Granularity});
        QCOMPARE(other.shown,
                 (QList<SettingsField>{SettingsField::Bits, SettingsField::Granularity}));
        QVERIFY(owner.settings().plan.defaults.quant.granularity == Granularity::Tensor);

        // Undo tells everyone, the sender included.
        controls.shown.clear();
        owner.undoStack()->undo();
        QVERIFY(controls.shown.contains(SettingsField::Bits));

        // An edit that changes nothing, or a value the field does not take, does nothing.
        const int steps = owner.undoStack()->count();
        other.shown.clear();
        controls.send(SettingsField::Alpha, 0.05);
        controls.send(SettingsField::Scheme, QStringLiteral("diagonal"));
        QCOMPARE(owner.undoStack()->count(), steps);
        QVERIFY(other.shown.isEmpty());
    }

    void fieldsMakeThePlan() {
        WorkbenchSettings s;
        QVERIFY(setFieldValue(s, SettingsField::Alpha, 0.05));
        QVERIFY(setFieldValue(s, SettingsField::Rho, 0.02));
        QVERIFY(setFieldValue(s, SettingsField::KeepFloat, QStringList{"dense_1"}));
        const CompressionPlan& plan = s.plan;
        QCOMPARE(plan.defaults.quant.alpha, 0.05f);
        QCOMPARE(plan.defaults.quant.bits, 0);
        QCOMPARE(plan.defaults.prune.rho, 0.02f);
        QVERIFY(plan.defaults.prune.method == PruneMethod::Threshold);
        QCOMPARE(int(plan.overrides.size()), 1);
        QCOMPARE(plan.overrides[0].layer, std::string("dense_1"));
        QVERIFY(plan.overrides[0].keepFloat);
        QVERIFY(setFieldValue(s, SettingsField::Textbook, true));
        QVERIFY(setFieldValue(s, SettingsField::Bits, 4));
        QVERIFY(setFieldValue(s, SettingsField::Granularity, QStringLiteral("group64")));
        QVERIFY(setFieldValue(s, SettingsField::Scheme, QStringLiteral("asymmetric")));
        QVERIFY(setFieldValue(s, SettingsField::Kernels, QStringLiteral("int8")));
        QVERIFY(s.plan.defaults.prune.method == PruneMethod::TextbookThreshold);
        QVERIFY(s.plan.defaults.quant.granularity == Granularity::Group);
        QCOMPARE(s.plan.defaults.quant.groupSize, 64);
        QVERIFY(s.plan.defaults.quant.scheme == QuantScheme::Asymmetric);
        QVERIFY(s.kernels == KernelChoice::Int8);
        // A language model's block format and scope; a name llama.cpp lacks is refused.
        QVERIFY(setFieldValue(s, SettingsField::LlmFormat, QStringLiteral("Q4_K")));
        QVERIFY(setFieldValue(s, SettingsField::LlmScope, QStringLiteral("all")));
        QVERIFY(!setFieldValue(s, SettingsField::LlmFormat, QStringLiteral("Q9_9")));
        QCOMPARE(s.llm.format, std::string("Q4_K"));
        QVERIFY(s.llm.scope == LlmScope::All);
        // Bit widths out of range are clamped, names that no parser takes are refused.
        QVERIFY(setFieldValue(s, SettingsField::Bits, 12));
        QCOMPARE(s.plan.defaults.quant.bits, 8);
        QVERIFY(!setFieldValue(s, SettingsField::Granularity, QStringLiteral("group48")));
        QCOMPARE(s.plan.defaults.quant.groupSize, 64);
        // Every field reads back as it was set.
        for (SettingsField f : kSettingsFields) {
            WorkbenchSettings copy = s;
            QVERIFY(setFieldValue(copy, f, fieldValue(s, f)));
            QVERIFY(copy == s);
        }
        // Back to the step: granularity and scheme need a bit width, so they go too.
        QVERIFY(setFieldValue(s, SettingsField::Bits, 0));
        QVERIFY(s.plan.defaults.quant.granularity == Granularity::Tensor);
        QVERIFY(s.plan.defaults.quant.scheme == QuantScheme::Symmetric);
    }

    void settingsSurviveARestart() {
        WorkbenchSettings s;
        s.plan.defaults.quant.alpha = 0.0125f;
        s.plan.defaults.prune.rho = 0.03f;
        s.plan.defaults.prune.method = PruneMethod::TextbookThreshold;
        s.plan.defaults.quant.bits = 4;
        s.plan.defaults.quant.granularity = Granularity::Channel;
        s.plan.defaults.quant.scheme = QuantScheme::Asymmetric;
        s.distill.temperature = 6.5;
        s.distill.lambda = 0.7;
        s.distill.student = "mlp:32";
        s.kernels = KernelChoice::Int8;
        s.llm.format = "Q5_K";
        s.llm.scope = LlmScope::All;
        {
            QSettings q;
            saveSettings(s, q);
        }
        {
            QSettings q;
            QVERIFY(loadSettings(q) == s);
            // As an earlier version wrote them: QStrings, and a granularity beside the step.
            q.setValue("settings/scheme", "sym");
            q.setValue("settings/bits", 0);
            q.setValue("settings/granularity", "channel");
            q.setValue("settings/kernels", "warp drive");  // damaged: the default
        }
        QSettings q;
        const WorkbenchSettings back = loadSettings(q);
        QVERIFY(back.plan.defaults.quant.scheme == QuantScheme::Symmetric);
        QCOMPARE(back.plan.defaults.quant.bits, 0);
        QVERIFY(back.plan.defaults.quant.granularity == Granularity::Tensor);
        QVERIFY(back.kernels == KernelChoice::Auto);
        QCOMPARE(back.plan.defaults.quant.alpha, 0.0125f);
        QCOMPARE(back.distill.student, std::string("mlp:32"));
    }

    void paretoFrontOfAHandMadeSet() {
        EvaluationHistory h;
        h.add(point(0, 0, 0.90, 1000));    // 0: float, on the front (most accurate)
        h.add(point(0.01, 0, 0.89, 300));  // 1: front
        h.add(point(0.02, 0, 0.85, 320));  // 2: dominated by 1
        h.add(point(0.05, 0, 0.80, 100));  // 3: front (smallest)
        h.add(point(0.04, 0, 0.80, 150));  // 4: dominated by 3
        QCOMPARE(h.paretoFront(), (QVector<int>{3, 1, 0}));
        // Same settings again with more samples replaces; with fewer is ignored.
        EvaluatedPoint better = point(0.01, 0, 0.891, 300);
        better.samples = 10000;
        h.add(better);
        QCOMPARE(h.points().size(), 5);
        QCOMPARE(h.points()[1].accuracy, 0.891);
        EvaluatedPoint worse = point(0.01, 0, 0.5, 300);
        worse.samples = 100;
        h.add(worse);
        QCOMPARE(h.points()[1].accuracy, 0.891);
    }

    void curveKeepsOnlyTheActiveParameterVarying() {
        EvaluationHistory h;
        h.add(point(0.02, 0.01, 0.8, 1));
        h.add(point(0.01, 0.01, 0.9, 1));
        h.add(point(0.01, 0.05, 0.7, 1));  // other rho: not on the alpha curve at rho 0.01
        WorkbenchSettings at;
        at.plan.defaults.prune.rho = 0.01f;
        const auto curve = h.curve(at, SweepParameter::Alpha);
        QCOMPARE(curve.size(), 2);
        QCOMPARE(curve[0].settings.plan.defaults.quant.alpha, 0.01f);
        QCOMPARE(curve[1].settings.plan.defaults.quant.alpha, 0.02f);
    }

    void csvIsExact() {
        EvaluationHistory h;
        EvaluatedPoint p = point(0.05, 0.02, 0.8857, 174800);
        p.latencyMs = 0.0125;
        p.engine = "cpu float32";
        p.sparsity = 0.25;
        p.effectiveBits = 5;
        h.add(p);
        const QString csv = QString::fromStdString(h.table().str());
        const QStringList lines = csv.split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 2);
        QCOMPARE(
            lines[0],
            QString("alpha,rho,textbook_rho,bits,granularity,scheme,float_layers,samples,accuracy,"
                    "latency_ms_per_image,size_kb,sparsity,effective_bits,kernels,engine,source"));
        QCOMPARE(lines[1],
                 QString("0.05,0.02,0,0,tensor,symmetric,0,10000,0.8857,0.0125,170.703125,0.25,5,"
                         "auto,cpu float32,slider"));
        const QString path = QString::fromStdString(test::tempDir()) + "/table.csv";
        QString error;
        QVERIFY(writeCsvFile(path, h.table(), &error));
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromUtf8(f.readAll()), csv);
    }

    void wilsonIntervalByHand_data() {
        QTest::addColumn<int>("successes");
        QTest::addColumn<int>("trials");
        QTest::addColumn<double>("low");
        QTest::addColumn<double>("high");
        // Worked by hand from (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), z = 1.96.
        QTest::newRow("50 of 100") << 50 << 100 << 0.40383 << 0.59617;
        QTest::newRow("0 of 10") << 0 << 10 << 0.0 << 0.27754;
        QTest::newRow("900 of 1000") << 900 << 1000 << 0.87985 << 0.91709;
    }
    void wilsonIntervalByHand() {
        QFETCH(int, successes);
        QFETCH(int, trials);
        QFETCH(double, low);
        QFETCH(double, high);
        const auto [lo, hi] = wilsonInterval(successes, trials);
        QVERIFY2(std::abs(lo - low) < 1e-4, qPrintable(QString::number(lo, 'f', 6)));
        QVERIFY2(std::abs(hi - high) < 1e-4, qPrintable(QString::number(hi, 'f', 6)));
    }
};

QTEST_MAIN(SettingsTest)
#include "settings_test.moc"
