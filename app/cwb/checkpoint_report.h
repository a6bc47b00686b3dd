// `cwb info` for a language-model checkpoint: the architecture, every tensor (name, shape,
// dtype, size) and the totals per dtype, as text or JSON.
#pragma once

#include <nlohmann/json.hpp>

#include "core/llm/checkpoint_info.h"

namespace cwb::cli {

void printCheckpoint(const CheckpointInfo& info);
nlohmann::ordered_json checkpointJson(const CheckpointInfo& info);

}  // namespace cwb::cli
