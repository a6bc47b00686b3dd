// What every Llama checkpoint reader shares once it has a config and named tensors: sanity
// bounds on the config, and finding each role's tensor by the format's names with its shape
// and dtype checked against the config.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "core/llm/llama_config.h"
#include "core/llm/llama_weights.h"

namespace cwb {

// Throws cwb::Error "<where>: ..." unless every size is positive and within bounds no real
// model reaches, heads divide into key/value groups, the head size is even (RoPE pairs) and
// eps and theta are finite and positive.
void checkLlamaConfig(const LlamaConfig& config, const std::string& where);

// A double from a file as a float: values beyond float's range become infinities (a plain
// cast would be undefined), which checkLlamaConfig then refuses.
float toFloatSaturated(double value);

// How one format names the tensors of each role. A block tensor's name is
// blockPrefix + layer index + the role's suffix ("blk." "3" ".attn_q.weight").
struct LlamaTensorNames {
    std::string embedding, finalNorm, output;
    std::string blockPrefix;
    std::string attnNorm, q, k, v, o, ffnNorm, gate, up, down;
};

extern const LlamaTensorNames kHuggingFaceNames;
extern const LlamaTensorNames kGgufNames;

// Finds every role's tensor in `tensors`. The output is the embedding when
// config.tiedEmbeddings, and a missing output tensor is an error otherwise. Throws
// cwb::Error "<where>: tensor 'NAME' ..." for a missing tensor, a shape that does not match
// the config, or a dtype outside `allowed`.
LlamaWeights assignLlamaRoles(const LlamaConfig& config, const std::vector<NamedTensor>& tensors,
                              const LlamaTensorNames& names, std::initializer_list<DType> allowed,
                              const std::string& where);

}  // namespace cwb
