// One reader per file format, chosen by content (magic bytes, a plausible header, the files a
// folder holds) and by name only where a format has nothing else. A reader is a row {name,
// probe, load}; `load` gives either a network (Model: Keras files, weights-only safetensors) or
// a language-model checkpoint (LlamaCheckpoint: GGUF, Hugging Face folders, llama2.c), so both
// kinds share one probe mechanism. loadModel() (model_loader.h) asks only the readers of
// networks, openLlamaCheckpoint() (llama_checkpoint.h) only those of checkpoints.
//
// Adding a reader is one row in readers() (reader_registry.cpp), before any row whose probe
// would also take its files. The loader is a plain function
// `Model f(const std::string& path)` or `LlamaCheckpoint f(const std::string& path)`:
//     {"GGUF", startsWith("GGUF"), openGgufCheckpoint},
// A probe only looks at ProbeInput (the first bytes, or the folder's path) and the file it
// names; it never throws.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "core/llm/llama_weights.h"
#include "core/model/model.h"

namespace cwb {

// What a probe sees: the path, whether it is a folder, and a file's first kProbeBytes bytes.
inline constexpr std::size_t kProbeBytes = 64;
struct ProbeInput {
    std::string path;
    bool isFolder = false;
    std::string head;  // empty for a folder; shorter than kProbeBytes for a short file
};

using Probe = std::function<bool(const ProbeInput&)>;
// A file whose bytes at `offset` are `magic`.
Probe startsWith(std::string_view magic, std::size_t offset = 0);

using ModelLoader = Model (*)(const std::string& path);
using CheckpointLoader = LlamaCheckpoint (*)(const std::string& path);
using Loaded = std::variant<Model, LlamaCheckpoint>;

struct Reader {
    std::string name;  // shown in "supported: ..." and in errors: "Keras 3 .keras"
    Probe probe;
    std::variant<ModelLoader, CheckpointLoader> load;

    bool givesModel() const { return std::holds_alternative<ModelLoader>(load); }
    Loaded open(const std::string& path) const;
};

// Every reader, in probing order.
std::span<const Reader> readers();

// Which readers a search asks.
enum class ReaderKind { Any, Model, Checkpoint };

// The first reader of that kind whose probe takes `path`, or nullptr when none does. Throws
// cwb::Error "<path>: file not found" when there is nothing at `path`.
const Reader* findReader(const std::string& path, ReaderKind kind = ReaderKind::Any);

// "Keras .h5 and .weights.h5, Keras 3 .keras, ...": the readers of that kind, for messages.
std::string readerNames(ReaderKind kind);

// Opens `path` with its reader. Throws cwb::Error with one line naming the file when no
// reader takes it ("not a recognised file; supported: ...") or the reader refuses it.
Loaded openFile(const std::string& path);

}  // namespace cwb
