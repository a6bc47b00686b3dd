// One reader per file format, chosen by content (magic bytes, the files a folder holds) and
// not by the name's extension. A reader is a row {name, probe, load}; `load` gives either a
// network (Model: Keras files, weights-only safetensors) or a language-model checkpoint
// (LlamaCheckpoint), so both kinds share one probe mechanism and one "not recognised" line.
//
// Adding a reader is one row in readers() (reader_registry.cpp), before any row whose probe
// would also take its files. The loader is a plain function
// `Model f(const std::string& path)` or `LlamaCheckpoint f(const std::string& path)`:
//     {"GGUF", startsWith("GGUF"), loadGguf},
//     {"Hugging Face folder", folderHolding("config.json"), loadHuggingFaceCheckpoint},
//     {"llama2.c .bin", looksLikeLlama2c, loadLlama2c},  // no magic: a probe of its own
// A probe only looks at ProbeInput (the first bytes, or the folder's path); it never throws.
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
// A folder that holds a file named `name`.
Probe folderHolding(std::string name);

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

// The first reader whose probe takes `path`, or nullptr when none does. Throws cwb::Error
// "<path>: file not found" when there is nothing at `path`.
const Reader* findReader(const std::string& path);

// Opens `path` with its reader. Throws cwb::Error with one line naming the file when no
// reader takes it ("not a recognised model file; supported: ...") or the reader refuses it.
Loaded openFile(const std::string& path);

}  // namespace cwb
