// The backend seam: the device list, the choice of a backend by name (with the fallback
// note for a device this build cannot run), and that compressModel and makeCompressedEngine
// really hand their jobs to the backend their options name.
#include "core/backend/backend.h"

#include <QtTest>
#include <cstring>

#include "core/compress/compress_model.h"
#include "core/error.h"
#include "core/infer/evaluate.h"
#include "core/io/idx_dataset.h"
#include "core/io/model_loader.h"
#include "tests/support/test_paths.h"

using namespace cwb;

namespace {

// Delegates to the CPU backend and counts the jobs it was given.
class CountingBackend final : public Backend {
public:
    int passes = 0, engines = 0;
    std::string name() const override { return "counting"; }
    std::string description() const override { return "the CPU, counted"; }
    std::vector<FusedResult> runFusedPass(const std::vector<FusedJob>& jobs,
                                          const FusedOptions& options,
                                          const Progress& progress) override {
        ++passes;
        return cpuBackend().runFusedPass(jobs, options, progress);
    }
    std::unique_ptr<InferenceEngine> makeEngine(const Model& model,
                                                const CompressedEngineOptions& options,
                                                KernelReport* report) override {
        ++engines;
        return cpuBackend().makeEngine(model, options, report);
    }
};

}  // namespace

class BackendTest : public QObject {
    Q_OBJECT
private slots:
    void deviceListStartsWithTheCpu() {
        const auto devices = listDevices();
        QVERIFY(devices.size() >= 2);
        QCOMPARE(devices[0].name, std::string("cpu"));
        QVERIFY(devices[0].available);
        QCOMPARE(devices[0].description, cpuBackend().description());
        QVERIFY(devices[0].description.rfind("CPU, ", 0) == 0);
        for (const auto& d : devices)
            QVERIFY2(d.available == d.unavailableReason.empty(), d.name.c_str());
    }

    // "gpu" rows: a GPU backend where the device list says the GPU runs, else the CPU with the
    // fallback note (in a build without CUDA, the note names that).
    void choosingByName_data() {
        QTest::addColumn<QString>("device");
        QTest::addColumn<QString>("note");  // "" = the CPU, no note; "gpu" as above; "-" = an error
        QTest::newRow("cpu") << "cpu"
                             << "";
        QTest::newRow("auto") << "auto"
                              << "gpu";
        QTest::newRow("cuda") << "cuda"
                              << "gpu";
        QTest::newRow("cuda:1") << "cuda:1"
                                << "gpu";
        for (const char* bad : {"gpu", "cuda:", "cuda:x", "cuda:-1", "cuda:1x", "CPU", ""})
            QTest::newRow(bad[0] ? bad : "(empty)") << bad << "-";
    }
    void choosingByName() {
        QFETCH(QString, device);
        QFETCH(QString, note);
        if (note == "-") {
            try {
                chooseBackend(device.toStdString());
                QFAIL("accepted");
            } catch (const Error& e) {
                QCOMPARE(QString(e.what()),
                         "device '" + device + "' is not known; choose cpu, cuda, cuda:N or auto");
            }
            return;
        }
        const BackendChoice choice = chooseBackend(device.toStdString());
        QCOMPARE(&backendOr(nullptr), &cpuBackend());
        if (note.isEmpty()) {
            QCOMPARE(choice.backend, &cpuBackend());
            QVERIFY(choice.note.empty());
            return;
        }
        // The GPU this name asks for ("auto" and "cuda" mean GPU 0), as the device list has it.
        const std::string wanted = device == "cuda:1" ? "cuda:1" : "cuda:0";
        const auto devices = listDevices();
        const DeviceInfo* row = nullptr;
        for (const auto& d : devices)
            if (d.name == wanted) row = &d;
        if (row && row->available) {
            QCOMPARE(choice.backend->name(), wanted);
            QVERIFY(choice.note.empty());
            return;
        }
        QCOMPARE(choice.backend, &cpuBackend());
        if (device == "auto") {
            QVERIFY(choice.note.empty());
            return;
        }
#ifndef CWB_HAVE_CUDA
        QCOMPARE(QString::fromStdString(choice.note),
                 device + ": not available (this build has no CUDA backend); running on the CPU");
#else
        const std::string reason = row ? row->unavailableReason : devices[1].unavailableReason;
        if (row || devices[1].name == "cuda")
            QCOMPARE(choice.note,
                     device.toStdString() + ": not available (" + reason + "); running on the CPU");
        else  // fewer GPUs than the index
            QVERIFY(choice.note.find(": not available (this machine has ") != std::string::npos);
#endif
    }

    // Both whole jobs go through the backend in the options, and give what the CPU gives.
    void jobsGoThroughTheChosenBackend() {
        const Model model = loadModel(test::fixture("k2_mlp_dropout_percy.h5"));
        const Dataset data = loadFashionMnist(test::datasetDir(), Split::Test, 256);
        const CompressionPlan plan = CompressionPlan::uniform(0.02f, 0.01f);
        CountingBackend counting;

        CompressOptions viaCpu, viaCounting;
        viaCounting.backend = &counting;
        const CompressionResult a = compressModel(model, plan, viaCpu);
        const CompressionResult b = compressModel(model, plan, viaCounting);
        QCOMPARE(counting.passes, 1);
        QCOMPARE(b.total.weights.mse, a.total.weights.mse);
        const int li = a.layers.front().layerIndex;
        const auto& ka = a.model.layers[static_cast<std::size_t>(li)].kernel;
        const auto& kb = b.model.layers[static_cast<std::size_t>(li)].kernel;
        QVERIFY(ka.byteSize() > 0);
        QVERIFY(std::memcmp(ka.bytes(), kb.bytes(), ka.byteSize()) == 0);

        CompressedEngineOptions engineCpu, engineCounting;
        engineCpu.grids = engineCounting.grids = &a.grids;
        engineCpu.measure = engineCounting.measure = false;
        engineCounting.backend = &counting;
        auto e1 = makeCompressedEngine(a.model, engineCpu);
        auto e2 = makeCompressedEngine(a.model, engineCounting);
        QCOMPARE(counting.engines, 1);
        QCOMPARE(evaluate(*e2, data).correct, evaluate(*e1, data).correct);
    }
};

QTEST_APPLESS_MAIN(BackendTest)
#include "backend_test.moc"
