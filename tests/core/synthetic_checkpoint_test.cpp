// `cwb synth`'s folders: the layout save_pretrained writes (config, shards, index), weights
// with the statistics they are defined to have, and no write into an existing folder.
#include "core/llm/synthetic_checkpoint.h"

#include <QtTest>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/io/safetensors.h"
#include "core/util/mapped_file.h"
#include "tests/support/test_paths.h"

using namespace cwb;
namespace fs = std::filesystem;

namespace {

nlohmann::json readJson(const std::string& path) {
    return nlohmann::json::parse(test::readBytes(path));
}

}  // namespace

class SyntheticCheckpointTest : public QObject {
    Q_OBJECT
private slots:
    void shapesAreTheNamedModels() {
        const LlamaConfig tiny = syntheticShape("tinyllama");
        QCOMPARE(tiny.hiddenSize, 2048);
        QCOMPARE(tiny.intermediateSize, 5632);
        QCOMPARE(tiny.layers, 22);
        QCOMPARE(tiny.heads, 32);
        QCOMPARE(tiny.kvHeads, 4);
        QCOMPARE(tiny.vocabSize, 32000);
        // Llama-2-7B: 6 738 415 616 parameters, 2 bytes each in bf16.
        QCOMPARE(syntheticCheckpointBytes(syntheticShape("llama7b")), 6738415616ull * 2);
        // TinyLlama-1.1B: 1 100 048 384 parameters.
        QCOMPARE(syntheticCheckpointBytes(tiny), 1100048384ull * 2);
        QVERIFY_THROWS_EXCEPTION(Error, syntheticShape("gpt5"));
    }

    void writesAShardedHuggingFaceFolder() {
        const std::string dir = test::tempDir() + "/small";
        SyntheticCheckpointOptions options;
        options.shardBytes = 4'000'000;  // about 13 MB of weights: four shards
        long long lastDone = -1, lastTotal = 0;
        Progress progress{[&](long long done, long long total) {
            lastDone = done;
            lastTotal = total;
            return true;
        }};
        writeSyntheticCheckpoint(syntheticShape("small"), dir, options, progress);
        QCOMPARE(lastDone, lastTotal);

        const auto config = readJson(dir + "/config.json");
        QCOMPARE(config["hidden_size"].get<int>(), 256);
        QCOMPARE(config["num_key_value_heads"].get<int>(), 2);
        QCOMPARE(config["architectures"][0].get<std::string>(), std::string("LlamaForCausalLM"));

        const auto index = readJson(dir + "/model.safetensors.index.json");
        std::set<std::string> shardNames;
        std::uint64_t bytes = 0;
        std::size_t tensors = 0;
        for (const auto& [name, shard] : index["weight_map"].items()) shardNames.insert(shard);
        QCOMPARE(shardNames.size(), std::size_t(4));
        for (const auto& shard : shardNames) {
            QVERIFY(shard.find("-of-00004.safetensors") != std::string::npos);
            for (const auto& t : parseSafetensors(mapFile(dir + "/" + shard), shard)) {
                QCOMPARE(index["weight_map"][t.name].get<std::string>(), shard);
                QCOMPARE(t.tensor.dtype(), DType::BF16);
                bytes += t.tensor.byteSize();
                ++tensors;
                if (t.name == "model.layers.5.mlp.down_proj.weight") {
                    // Uniform on ±0.02·√3: mean 0, standard deviation 0.02.
                    const auto v = t.tensor.toFloatVector();
                    double sum = 0, squares = 0;
                    for (float x : v) {
                        sum += x;
                        squares += double(x) * x;
                    }
                    const double mean = sum / v.size();
                    QVERIFY(std::abs(mean) < 2e-4);
                    QVERIFY(std::abs(std::sqrt(squares / v.size() - mean * mean) - 0.02) < 5e-4);
                }
                if (t.name == "model.norm.weight") QCOMPARE(t.tensor.toFloatVector()[7], 1.0f);
            }
        }
        QCOMPARE(tensors, std::size_t(2 + 9 * 6 + 1));
        QCOMPARE(bytes, index["metadata"]["total_size"].get<std::uint64_t>());
        QCOMPARE(bytes, syntheticCheckpointBytes(syntheticShape("small")));
    }

    void neverWritesIntoAnExistingFolder() {
        const std::string dir = test::tempDir() + "/taken";
        fs::create_directories(dir);
        test::writeBytes(dir + "/mine.txt", "keep me");
        QVERIFY_THROWS_EXCEPTION(
            Error, writeSyntheticCheckpoint(syntheticShape("small"), dir, {}, Progress{}));
        QCOMPARE(test::readBytes(dir + "/mine.txt"), std::string("keep me"));
    }

    void cancellingLeavesNothing() {
        const std::string dir = test::tempDir() + "/cancelled";
        Progress cancelAtOnce{[](long long, long long) { return false; }};
        QVERIFY_THROWS_EXCEPTION(
            Cancelled, writeSyntheticCheckpoint(syntheticShape("small"), dir, {}, cancelAtOnce));
        QVERIFY(!fs::exists(dir));
        for (const auto& entry : fs::directory_iterator(test::tempDir()))
            QVERIFY(entry.path().filename().string().find("cancelled") == std::string::npos);
    }
};

QTEST_GUILESS_MAIN(SyntheticCheckpointTest)
#include "synthetic_checkpoint_test.moc"
