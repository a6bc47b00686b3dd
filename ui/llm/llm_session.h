// What the window's worker shares once a language-model checkpoint is open: the checkpoint
// (tensors are views into mapped files, nothing read whole), its tokenizer and what `cwb info`
// would say about it. Immutable after loading, so every lane reads it without locks; opening
// another checkpoint makes a new LlmSession (as ui/worker/session.h does for Keras models).
//
// How the rest of the window reaches it (MainWindow, ui/window/main_window.h):
//   MainWindow::llmController()          the LlmController (ui/worker/llm_controller.h)
//   LlmController::session()             the current LlmSession, null while none is open
//   LlmController::sessionChanged()      a new LlmSession is current (the window is then in
//                                        its language-model mode: MainWindow::isLlmMode())
//   MainWindow::settingsOwner()->applied() and MainWindow::settings()
//                                        the settings, as for Keras models;
//                                        llmCompressionFor(settings()) is the core's
//                                        description of the compression they ask for.
#pragma once

#include <QString>
#include <memory>

#include "core/compress/compression_settings.h"
#include "core/llm/checkpoint_info.h"
#include "core/llm/llama_tensor_roles.h"
#include "core/llm/llama_weights.h"
#include "core/llm/llm_compress.h"
#include "core/llm/tokenizer.h"

namespace cwb::ui {

struct LlmSession {
    QString path;  // absolute: the folder, config.json, a shard, the .gguf or the .bin
    std::shared_ptr<const LlamaCheckpoint> checkpoint;
    // Null when the checkpoint has no tokenizer (a llama2.c .bin without tokenizer.bin);
    // then `tokenizerMessage` says what is missing. Perplexity and generation need it.
    std::shared_ptr<const Tokenizer> tokenizer;
    QString tokenizerMessage;
    CheckpointInfo info;  // every tensor's name, shape, dtype and bytes, in file order
    // Every tensor with its role (block, kind, llama.cpp's name), in file order; points into
    // *checkpoint. The tensor browser's rows, by index.
    std::vector<LlamaTensorRole> roles;
    double loadSeconds = 0.0;

    const LlamaConfig& config() const { return checkpoint->config; }
    const LlamaWeights& weights() const { return checkpoint->weights; }
};

// The compression `settings` ask of a language model: the block format and its scope when
// settings.llm.format names one (alpha, rho and k-bit then do not apply), else the plan's
// default LayerSettings on the block matrices.
LlmCompression llmCompressionFor(const WorkbenchSettings& settings);

// "Q4_K on the block matrices", "α 0.02, ρ 0.01, 4-bit", "as stored": for titles and legends.
QString describeLlmCompression(const WorkbenchSettings& settings);

}  // namespace cwb::ui
