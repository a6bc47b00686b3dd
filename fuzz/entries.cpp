// Fuzz entry functions (see entries.h).
#include "fuzz/entries.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "core/error.h"
#include "core/io/gguf_llama.h"
#include "core/io/hf_checkpoint.h"
#include "core/io/idx_dataset.h"
#include "core/io/keras_config.h"
#include "core/io/keras_h5.h"
#include "core/io/keras_weights.h"
#include "core/io/keras_zip.h"
#include "core/io/llama2c_checkpoint.h"
#include "core/io/llama2c_tokenizer.h"
#include "core/io/safetensors.h"
#include "core/llm/vocabulary_tokenizer.h"
#include "core/util/child_process.h"
#include "core/util/json_guard.h"
#include "core/util/memory.h"

namespace cwb::fuzz {
namespace {

// The readers that take a path get the input as a file in /dev/shm (memory, not disk), so
// they run exactly as on a user's file, HDF5 and libzip included. (A memfd would not do:
// HDF5 resolves the file's real path, which a memfd lacks.)
std::string asFile(const std::uint8_t* data, std::size_t size) {
    static const std::string path = [] {
        std::error_code ec;
        const std::filesystem::path dir = std::filesystem::is_directory("/dev/shm", ec)
                                              ? std::filesystem::path("/dev/shm")
                                              : std::filesystem::temp_directory_path();
        std::string name = (dir / ("cwb-fuzz-input-" + std::to_string(getpid()))).string();
        static const std::string removeAtExit = name;
        std::atexit([] { ::unlink(removeAtExit.c_str()); });
        return name;
    }();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    out.close();
    if (!out) throw std::runtime_error("cannot write " + path);
    return path;
}

void runIdx(const std::uint8_t* data, std::size_t size) {
    parseIdx(std::vector<std::uint8_t>(data, data + size), "fuzz.idx");
}

// The input in heap memory of exactly its size, so that ASan sees a read past its end.
std::shared_ptr<Storage> ownedCopy(const void* data, std::size_t size) {
    auto storage = std::make_shared<OwnedStorage>(size);
    if (size) std::memcpy(storage->mutableData(), data, size);
    return storage;
}

void runSafetensors(const std::uint8_t* data, std::size_t size) {
    // Converting reads every byte each tensor claims, as `cwb info` statistics do.
    for (const NamedTensor& t : parseSafetensors(ownedCopy(data, size), "fuzz.safetensors"))
        (void)t.tensor.toFloatVector();
}

// Reads every byte of every tensor a checkpoint hands out (by file name and by role) and
// every vocabulary piece, as a forward pass and `cwb info` would.
void touchCheckpoint(const LlamaCheckpoint& checkpoint) {
    unsigned sum = 0;
    auto touch = [&sum](const Tensor& t) {
        const std::byte* bytes = t.bytes();
        for (std::size_t i = 0; i < t.byteSize(); ++i) sum += std::to_integer<unsigned>(bytes[i]);
    };
    for (const NamedTensor& t : checkpoint.tensors) touch(t.tensor);
    const LlamaWeights& w = checkpoint.weights;
    for (const Tensor* t : {&w.embedding, &w.finalNorm, &w.output}) touch(*t);
    for (const LlamaBlockWeights& b : w.blocks)
        for (const Tensor* t :
             {&b.attnNorm, &b.q, &b.k, &b.v, &b.o, &b.ffnNorm, &b.gate, &b.up, &b.down})
            touch(*t);
    for (const std::string& piece : checkpoint.vocabulary.pieces)
        for (char c : piece) sum += static_cast<unsigned char>(c);
    volatile unsigned sink = sum;
    (void)sink;
}

void runGguf(const std::uint8_t* data, std::size_t size) {
    touchCheckpoint(readGgufCheckpoint(ownedCopy(data, size), "fuzz.gguf"));
}

void runLlama2c(const std::uint8_t* data, std::size_t size) {
    touchCheckpoint(readLlama2cCheckpoint(ownedCopy(data, size), "fuzz.bin"));
}

// A Hugging Face folder in one input: config.json, a NUL, the index (empty: none, so the
// weights are model.safetensors), a NUL, then the bytes of the first weights file asked for;
// any other file is missing.
void runHf(const std::uint8_t* data, std::size_t size) {
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    const std::size_t first = all.find('\0');
    const std::string_view config = all.substr(0, first);
    std::optional<std::string_view> index;
    std::string_view weights;
    if (first != std::string_view::npos) {
        const std::size_t second = all.find('\0', first + 1);
        const std::string_view middle =
            all.substr(first + 1, second == std::string_view::npos ? second : second - first - 1);
        if (!middle.empty()) index = middle;
        if (second != std::string_view::npos) weights = all.substr(second + 1);
    }
    bool given = false;
    const auto open = [&](const std::string&) -> std::shared_ptr<Storage> {
        if (given) return nullptr;
        given = true;
        return ownedCopy(weights.data(), weights.size());
    };
    touchCheckpoint(readHfCheckpoint("fuzz", config, index, open));
}

// The HDF5 readers parse in a child process (core/util/child_process.h) and turn its crash
// or hang into a cwb::Error. That is right for users but hides the crash from the fuzzer,
// so such inputs are kept for triage in $CWB_FUZZ_PROBE_DIR (fuzz/run.sh sets it). Only the
// child's own messages count: "<path>[: model.weights.h5]: reading the file crashed / did
// not finish / stopped ...".
void runProbed(const std::uint8_t* data, std::size_t size, Model (*load)(const std::string&)) {
    const std::string path = asFile(data, size);
    try {
        load(path);
    } catch (const Error& e) {
        const char* dir = std::getenv("CWB_FUZZ_PROBE_DIR");
        std::string_view rest(e.what());
        if (dir && rest.substr(0, path.size()) == path) {
            rest.remove_prefix(path.size());
            if (rest.substr(0, 18) == ": model.weights.h5") rest.remove_prefix(18);
            const std::string_view how = rest.substr(0, 20);
            if (how == ": reading the file c" || how == ": reading the file d" ||
                how == ": reading the file s") {
                const auto hash = std::hash<std::string_view>{}(
                    std::string_view(reinterpret_cast<const char*>(data), size));
                std::ofstream(std::string(dir) + "/probe-" + std::to_string(hash), std::ios::binary)
                    .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
            }
        }
        throw;
    }
}

void runKerasH5(const std::uint8_t* data, std::size_t size) { runProbed(data, size, loadKerasH5); }

void runKerasZip(const std::uint8_t* data, std::size_t size) {
    runProbed(data, size, loadKerasZip);
}

// Zero weights of the shapes Keras gives a layer with this per-sample input, or false when
// they would be too large to be worth fuzzing with.
bool zeroWeights(Layer& layer, const Shape& in, const std::string& where) {
    constexpr std::int64_t kMaxElements = 1 << 22;
    const std::int64_t last = in.empty() ? 0 : in.back();
    std::vector<std::pair<std::string, Shape>> weights;
    if (layer.kind == LayerKind::Dense) {
        weights = {{"kernel", {last, layer.units}}, {"bias", {layer.units}}};
    } else if (layer.kind == LayerKind::Conv2D) {
        const std::int64_t channels = in.size() == 2 ? 1 : last;
        weights = {
            {"kernel", {layer.conv.kernelH, layer.conv.kernelW, channels, layer.conv.filters}},
            {"bias", {layer.conv.filters}}};
    } else if (layer.kind == LayerKind::BatchNormalization) {
        for (const char* role : {"gamma", "beta", "moving_mean", "moving_variance"})
            weights.push_back({role, {last}});
    }
    const auto roles = kerasWeightRoles(layer);
    for (const auto& [role, shape] : weights) {
        if (std::find(roles.begin(), roles.end(), role) == roles.end()) continue;
        std::int64_t n = 1;
        for (std::int64_t d : shape) {
            if (d < 0 || (d > 0 && n > kMaxElements / d)) return false;
            n *= d;
        }
        if (n > kMaxElements) return false;
        assignKerasWeight(layer, role, Tensor::zeros(shape), where);
    }
    return true;
}

// The Keras config JSON alone: parsed, given zero weights layer by layer, then finished
// into a Model (shape inference, axis checks) as the .h5 and .keras readers do.
void runKerasConfig(const std::uint8_t* data, std::size_t size) {
    const std::string where = "fuzz.json";
    const auto json =
        parseJsonGuarded(std::string_view(reinterpret_cast<const char*>(data), size), where, 256);
    KerasArchitecture arch = parseKerasModelConfig(json, where);
    Shape current = arch.inputShape;
    for (Layer& layer : arch.layers) {
        if (!zeroWeights(layer, current, where)) return;
        Model single;  // this layer alone, to learn its output shape
        single.sourcePath = where;
        single.inputShape = current;
        single.layers = {layer};
        single.inferShapes();
        current = single.layers.front().outputShape;
    }
    const Model model = finishKerasModel(std::move(arch), where, "fuzz");
    (void)model.parameterCount();
    (void)model.flopsPerSample();
}

// llama2.c's tokenizer.bin, then the tokenizer built on what it read: hostile pieces and
// scores must not upset the merge loop, and every id it gives must decode.
void runLlama2cTokenizer(const std::uint8_t* data, std::size_t size) {
    const VocabularyTokenizer tokenizer(parseLlama2cTokenizer(data, size, "fuzz.bin", -1),
                                        "fuzz.bin");
    const std::vector<int> ids = tokenizer.encode(
        "The dream align,  as I seep\tinto the void.\n\xC3\xA9\xE6\x97\xA5\xF0\x9F\x99\x82 "
        "\xFF<0x41><s>",
        true);
    (void)tokenizer.decode(ids);
    for (int id = 0; id < tokenizer.vocabularySize(); ++id) (void)tokenizer.tokenText(1, id);
}

}  // namespace

const std::vector<Entry>& entries() {
    static const std::vector<Entry> all{
        {"idx", runIdx},
        {"safetensors", runSafetensors},
        {"keras_h5", runKerasH5},
        {"keras_zip", runKerasZip},
        {"keras_config", runKerasConfig},
        {"llama2c_tokenizer", runLlama2cTokenizer},
        {"gguf", runGguf},
        {"hf", runHf},
        {"llama2c", runLlama2c},
    };
    return all;
}

EntryFunction findEntry(const std::string& name) {
    for (const Entry& entry : entries())
        if (entry.name == name) return entry.run;
    throw std::invalid_argument("unknown fuzz entry " + name);
}

void prepare() {
    // libFuzzer's -malloc_limit_mb defaults to its 2 GiB RSS limit; the readers must refuse
    // a declared size well before that, so their memory budget is capped lower.
    setMemoryCap(std::uint64_t(256) << 20);
    // HDF5 loops on many corrupt files; the reading child gives up on those after 60 s,
    // far too long for a fuzzer. Healthy seeds parse in well under a second under ASan.
    // fuzz/triage_probe.sh lifts the cap to look at a hang in a debugger.
    const char* seconds = std::getenv("CWB_FUZZ_PROBE_TIMEOUT_S");
    capChildTimeout(std::chrono::seconds(seconds ? std::atoi(seconds) : 1));
}

}  // namespace cwb::fuzz
