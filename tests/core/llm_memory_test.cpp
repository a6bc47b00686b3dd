// A language model is evaluated without a float32 copy of its weights, the way a 7B
// checkpoint must be on a machine of 24 GiB (bench/llm_scale.sh measures that one). A
// random-weight checkpoint of 120 MB in bf16 (float32: 240 MB) is written with `cwb synth`'s
// writer; perplexity then runs as stored, after alpha (Q8_K codes) and after Q8_0 while the
// heap may grow by 160 MiB at most, which a float32 copy of the weights would exceed. Checked:
// - the run completes under the cap, and its perplexity is that of a random model
//   (worked out by hand from the weights' distribution: see expectedPerplexityRange);
// - alpha's stored values are the naive round(W / alpha) * alpha of the original weights;
// - resident file pages sampled at every layer stay under a quarter of the file when the
//   forward pass releases them, and reach most of it when it keeps them (the control);
// - an alpha whose codes need more than 8 bits, with too little memory for float32, is
//   refused with one line naming the need and the way out.
#include <QtTest>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/infer/cpu/gemm.h"
#include "core/io/llama_checkpoint.h"
#include "core/llm/linear.h"
#include "core/llm/llm_compress.h"
#include "core/llm/perplexity.h"
#include "core/llm/synthetic_checkpoint.h"
#include "core/util/memory.h"
#include "tests/support/data_limit.h"
#include "tests/support/test_paths.h"

using namespace cwb;

namespace {

constexpr std::uint64_t kMiB = std::uint64_t(1) << 20;
// What the runs may add to the data the process holds when they start (thread stacks,
// arenas, Qt): a float32 copy of the weights (240 MB) does not fit in it.
constexpr std::uint64_t kHeapBudget = 160 * kMiB;
constexpr int kContext = 64;

// hidden 1024, intermediate 2816 (11 blocks of 256), 4 layers of 8 heads, vocab 4096:
// 60 M weights, 120 MB in bf16, 240 MB in float32.
LlamaConfig testShape() {
    LlamaConfig c;
    c.hiddenSize = 1024;
    c.intermediateSize = 2816;
    c.layers = 4;
    c.heads = 8;
    c.kvHeads = 8;
    c.headDim = 128;
    c.vocabSize = 4096;
    c.maxSequence = 256;
    return c;
}

// A field of /proc/self/status in kB: "RssFile:" (resident pages of mapped files),
// "VmData:" (what RLIMIT_DATA counts).
long statusKiB(const std::string& field) {
    std::ifstream status("/proc/self/status");
    std::string key;
    long value = 0;
    while (status >> key) {
        if (key == field) {
            status >> value;
            return value;
        }
        status.ignore(1 << 12, '\n');
    }
    return -1;
}

long residentFileKiB() { return statusKiB("RssFile:"); }

// A random model's perplexity, worked out by hand: the final RMSNorm (weights 1) gives a
// hidden state of norm sqrt(hidden), so each logit is a sum with standard deviation
// s = 0.02 * sqrt(1024) = 0.64, independent of the target; the expected -log p(target) is
// E[logsumexp] - E[z_target] = log(vocab) + s^2 / 2, so perplexity = vocab * exp(0.2048) =
// 5027. The 31 scored tokens leave it uncertain by about 0.64 / sqrt(31) = 0.115 in log:
// the range is three times that either way. NaN or a scale error lands outside it, and
// all-zero logits, which give exactly the vocabulary size, are refused separately.
std::pair<double, double> expectedPerplexityRange(int vocab) {
    const double s = 0.02 * std::sqrt(1024.0);
    const double expected = vocab * std::exp(s * s / 2);
    const double spread = std::exp(3 * s / std::sqrt(31.0));
    return {expected / spread, expected * spread};
}

}  // namespace

class LlmMemoryTest : public QObject {
    Q_OBJECT
    LlamaCheckpoint m_ckpt;
    std::vector<std::int32_t> m_tokens;
    std::uint64_t m_fileBytes = 0;

    PerplexityResult perplexity(const LlamaWeights& weights, ResidentWeights resident,
                                const std::function<bool()>& perLayer = {}) {
        PerplexityOptions options;
        options.context = kContext;
        options.threads = 2;
        options.maxChunks = 1;
        options.resident = resident;
        options.cancel = perLayer;
        return measurePerplexity(m_ckpt.config, weights, m_tokens, options);
    }

private slots:
    void initTestCase() {
        const std::string dir = test::tempDir() + "/synthetic";
        writeSyntheticCheckpoint(testShape(), dir, {}, {});
        m_fileBytes = syntheticCheckpointBytes(testShape());
        m_ckpt = openLlamaCheckpoint(dir);
        for (int i = 0; i < kContext; ++i) m_tokens.push_back((i * 7919 + 13) % 4096);
        takeBlasBuffers();
    }

    // OpenBLAS takes a work buffer (over 100 MB) from a global table for every SGEMM call and
    // grows the table when all are in use; where that allocation fails it retries forever.
    // The capped rows below multiply on two pool threads at once (Q8_K tiles), so the table
    // must hold a buffer for each caller before the cap, or the test hangs by chance.
    static void takeBlasBuffers() {
        cwb::cpu::setBlasThreads(1);
        constexpr int kSize = 384, kCallers = 4;
        std::vector<std::thread> callers;
        for (int t = 0; t < kCallers; ++t)
            callers.emplace_back([] {
                std::vector<float> a(kSize * kSize, 1.f), c(kSize * kSize);
                for (int r = 0; r < 20; ++r)
                    cwb::cpu::sgemmNT(kSize, kSize, kSize, a.data(), kSize, a.data(), kSize,
                                      c.data(), kSize);
            });
        for (auto& t : callers) t.join();
    }

    void cleanupTestCase() {
        m_ckpt = {};
        std::filesystem::remove_all(test::tempDir());
    }

    // First, before anything else touches the mapping: resident file pages per layer.
    void releasedWeightsDoNotStayResident() {
        const long base = residentFileKiB();
        long peak = 0;
        const auto sample = [&] {
            peak = std::max(peak, residentFileKiB() - base);
            return false;
        };
        const PerplexityResult released =
            perplexity(m_ckpt.weights, ResidentWeights::Release, sample);
        const long releasedPeak = peak;
        peak = 0;
        const PerplexityResult kept = perplexity(m_ckpt.weights, ResidentWeights::Keep, sample);
        const long fileKiB = static_cast<long>(m_fileBytes / 1024);
        qInfo("file %ld KiB; resident file pages at most %ld KiB released, %ld KiB kept", fileKiB,
              releasedPeak, peak);
        QVERIFY(releasedPeak < fileKiB / 4);
        QVERIFY(peak > fileKiB / 2);  // the control: the same measure sees kept pages
        QCOMPARE(released.stats.perplexity, kept.stats.perplexity);
    }

    void runsUnderAHeapCap_data() {
        QTest::addColumn<double>("alpha");
        QTest::addColumn<QString>("format");
        QTest::addColumn<int>("stored");
        QTest::newRow("bf16 as stored") << 0.0 << "" << int(DType::BF16);
        QTest::newRow("alpha 0.002") << 0.002 << "" << int(DType::Q8_K);
        QTest::newRow("Q8_0") << 0.0 << "Q8_0" << int(DType::Q8_0);
    }

    void runsUnderAHeapCap() {
        QFETCH(double, alpha);
        QFETCH(QString, format);
        QFETCH(int, stored);
        QVERIFY(m_fileBytes * 2 > kHeapBudget);  // a float32 copy would not fit under the cap
        double perplexityValue = 0;
        LlmCompressionResult compressed;
        {
            const std::uint64_t held = static_cast<std::uint64_t>(statusKiB("VmData:")) * 1024;
            const test::DataLimit cap(held + kHeapBudget);
            try {
                LlmCompression c;
                c.settings.quant.alpha = static_cast<float>(alpha);
                if (!format.isEmpty()) {
                    DType type;
                    QVERIFY(parseDType(format.toStdString(), type));
                    c.format = type;
                }
                LlmCompressOptions options;
                options.threads = 2;
                options.stats.histograms = false;
                compressed = compressLlama(m_ckpt.config, m_ckpt.weights, c, options);
                perplexityValue =
                    perplexity(compressed.weights, ResidentWeights::Release).stats.perplexity;
            } catch (const std::exception& e) {
                QFAIL(e.what());
            }
        }
        const auto [low, high] = expectedPerplexityRange(m_ckpt.config.vocabSize);
        qInfo("perplexity %.1f (random model: %.0f to %.0f)", perplexityValue, low, high);
        QVERIFY(perplexityValue > low && perplexityValue < high);
        QVERIFY(std::fabs(perplexityValue - m_ckpt.config.vocabSize) > 1.0);
        for (const LlmTensorReport& t : compressed.tensors) QCOMPARE(int(t.stored), stored);
        if (alpha > 0) {  // row 5 of layer 3's down projection, against the naive rule
            const Tensor& original = m_ckpt.weights.blocks[3].down;
            const Tensor& values = compressed.weights.blocks[3].down;
            const auto cols = static_cast<std::size_t>(original.shape()[1]);
            std::vector<float> w(cols), v(cols);
            tensorRowToFloat(original, 5, w.data());
            tensorRowToFloat(values, 5, v.data());
            const float a = static_cast<float>(alpha);
            for (std::size_t i = 0; i < cols; ++i) QCOMPARE(v[i], std::round(w[i] / a) * a);
        }
    }

    void codesPastEightBitsWithoutMemoryAreRefused() {
        LlmCompression c;
        c.settings.quant.alpha = 1e-5f;  // |W| up to 0.035: codes up to 3500
        LlmCompressOptions options;
        options.threads = 2;
        options.stats.histograms = false;
        setMemoryCap(2 * kMiB);
        QString message;
        try {
            compressLlama(m_ckpt.config, m_ckpt.weights, c, options);
        } catch (const Error& e) {
            message = QString::fromUtf8(e.what());
        }
        setMemoryCap(0);
        qInfo("%s", qPrintable(message));
        QVERIFY(message.contains("blk.0.attn_q.weight"));
        QVERIFY(message.contains("in float32 it and the block matrices after it need"));
        QVERIFY(message.contains("larger alpha"));
        QVERIFY(!message.contains('\n'));
    }
};

QTEST_GUILESS_MAIN(LlmMemoryTest)
#include "llm_memory_test.moc"
