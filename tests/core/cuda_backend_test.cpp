// The CUDA backend against the CPU backend: the fused pass (exact values, masks, codes and
// histograms; sums to float32 rounding), the float32 engine (accuracy within 0.0005 on the
// Fashion-MNIST test set) and distillation training (one SGD step equal to rounding, one Adam
// epoch's loss and accuracies). Skips, saying why, where no GPU runs (CI, a build without nvcc).
// The checks themselves are in tests/support/gpu_checks.cpp, shared with bench/cuda_bench.
#include <QtTest>

#include "core/backend/backend.h"
#include "core/io/model_loader.h"
#include "core/train/teacher_logits.h"
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

    // Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and Q2_K ... Q6_K blocks in the GPU's fused pass: the CPU
    // encoder's bytes and decoded values.
    void blockPassMatchesTheCpu_data() {
        QTest::addColumn<QString>("name");
        for (const std::string& name : test::blockCaseNames())
            QTest::newRow(name.c_str()) << QString::fromStdString(name);
    }
    void blockPassMatchesTheCpu() {
        QFETCH(QString, name);
        const std::string failure = test::checkBlockCase(0, name.toStdString());
        QVERIFY2(failure.empty(), failure.c_str());
    }

    // The block formats through Backend::runBlockPass and a language-model tensor's
    // statistics with the GPU as its backend: the CPU's bytes and figures.
    void backendBlockPassMatchesTheCpu_data() {
        QTest::addColumn<QString>("name");
        for (const std::string& name : test::backendBlockCaseNames())
            QTest::newRow(name.c_str()) << QString::fromStdString(name);
    }
    void backendBlockPassMatchesTheCpu() {
        QFETCH(QString, name);
        const std::string failure = test::checkBackendBlockCase(*m_gpu, name.toStdString());
        QVERIFY2(failure.empty(), failure.c_str());
    }

    // The whole-model table's row pass on kjv-llama-6m's matrices: the CPU's figures.
    void schemeTableRowsMatchTheCpu_data() {
        QTest::addColumn<QString>("name");
        for (const std::string& name : test::schemeTableCaseNames())
            QTest::newRow(name.c_str()) << QString::fromStdString(name);
    }
    void schemeTableRowsMatchTheCpu() {
        QFETCH(QString, name);
        const std::string failure = test::checkSchemeTableCase(
            *m_gpu, test::llmFixture("kjv-llama-6m/model-00001-of-00002.safetensors"),
            name.toStdString());
        QVERIFY2(failure.empty(), failure.c_str());
    }

    void engineMatchesTheCpu_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<bool>("tf32");
        for (const std::string& model : test::engineCheckModels())
            for (const bool tf32 : {false, true})
                QTest::newRow((model + (tf32 ? " tf32" : "")).c_str())
                    << QString::fromStdString(model) << tf32;
    }
    // TF32: accuracy within 0.0005 of the CPU's, outputs within 2e-2 (checkEngine).
    void engineMatchesTheCpu() {
        QFETCH(QString, model);
        QFETCH(bool, tf32);
        static const Dataset data = loadFashionMnist(test::datasetDir(), Split::Test);
        const test::EngineCheck r =
            test::checkEngine(*m_gpu, test::fixture(model.toStdString()), data,
                              tf32 ? GpuMath::Tf32 : GpuMath::Float32);
        QVERIFY2(r.failure.empty(), r.failure.c_str());
    }

    // 6 000 training images keep the CPU's epoch short; cuda_bench distill runs all 60 000.
    void distillationMatchesTheCpu() {
        const Dataset train = loadFashionMnist(test::datasetDir(), Split::Train, 6000);
        const Dataset testSet = loadFashionMnist(test::datasetDir(), Split::Test, 2000);
        const std::vector<float> logits =
            train::teacherLogits(loadModel(test::fixture("k2_mlp_dropout_percy.h5")), train);
        const test::TrainCheck r = test::checkDistillation(*m_gpu, train, testSet, logits, 32);
        QVERIFY2(r.failure.empty(), r.failure.c_str());
    }
};

QTEST_APPLESS_MAIN(CudaBackendTest)
#include "cuda_backend_test.moc"
