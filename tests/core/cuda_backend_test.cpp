// The CUDA backend against the CPU backend: the fused pass (exact values, masks, codes and
// histograms; sums to float32 rounding) and the float32 engine (accuracy within 0.0005 on the
// Fashion-MNIST test set). Skips, saying why, where no GPU runs (CI, a build without nvcc).
// The checks themselves are in tests/support/gpu_checks.cpp, shared with bench/cuda_bench.
#include <QtTest>

#include "core/backend/backend.h"
#include "tests/support/gpu_checks.h"
#include "tests/support/test_paths.h"

using namespace cwb;

class CudaBackendTest : public QObject {
    Q_OBJECT
    Backend* m_gpu = nullptr;

private slots:
    void initTestCase() {
        const BackendChoice choice = chooseBackend("cuda");
        if (choice.backend == &cpuBackend()) QSKIP(("no GPU to test: " + choice.note).c_str());
        m_gpu = choice.backend;
    }

    void deviceRowsNameTheGpus() {
        int gpus = 0;
        for (const DeviceInfo& d : listDevices()) {
            if (d.name.rfind("cuda:", 0) != 0) continue;
            ++gpus;
            if (d.available) QVERIFY(!d.description.empty());
        }
        QVERIFY(gpus >= 1);
        QCOMPARE(m_gpu->name(), std::string("cuda:0"));
        QCOMPARE(chooseBackend("auto").backend, m_gpu);
    }

    void fusedPassMatchesTheCpu_data() {
        QTest::addColumn<QString>("name");
        for (const std::string& name : test::fusedCaseNames())
            QTest::newRow(name.c_str()) << QString::fromStdString(name);
    }
    void fusedPassMatchesTheCpu() {
        QFETCH(QString, name);
        const std::string failure = test::checkFusedCase(*m_gpu, name.toStdString());
        QVERIFY2(failure.empty(), failure.c_str());
    }

    void engineMatchesTheCpu_data() {
        QTest::addColumn<QString>("model");
        for (const std::string& model : test::engineCheckModels())
            QTest::newRow(model.c_str()) << QString::fromStdString(model);
    }
    void engineMatchesTheCpu() {
        QFETCH(QString, model);
        static const Dataset data = loadFashionMnist(test::datasetDir(), Split::Test);
        const test::EngineCheck r =
            test::checkEngine(*m_gpu, test::fixture(model.toStdString()), data);
        QVERIFY2(r.failure.empty(), r.failure.c_str());
    }
};

QTEST_APPLESS_MAIN(CudaBackendTest)
#include "cuda_backend_test.moc"
