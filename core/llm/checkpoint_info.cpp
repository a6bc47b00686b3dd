// A checkpoint's summary for `cwb info` (see checkpoint_info.h).
#include "core/llm/checkpoint_info.h"

#include <algorithm>

namespace cwb {

CheckpointInfo describeCheckpoint(const LlamaCheckpoint& checkpoint) {
    CheckpointInfo info;
    info.path = checkpoint.path;
    info.format = checkpoint.format;
    info.architecture = checkpoint.config.architecture;
    info.config = checkpoint.config;
    info.vocabularyPieces = static_cast<int>(checkpoint.vocabulary.pieces.size());
    info.tokenizerModelPath = checkpoint.tokenizerModelPath;
    for (const NamedTensor& t : checkpoint.tensors) {
        CheckpointTensorRow row{t.name, t.tensor.shape(), t.tensor.dtype(),
                                static_cast<std::uint64_t>(t.tensor.elements()),
                                t.tensor.byteSize()};
        auto total =
            std::find_if(info.byDType.begin(), info.byDType.end(),
                         [&](const CheckpointDTypeTotal& d) { return d.dtype == row.dtype; });
        if (total == info.byDType.end())
            total = info.byDType.insert(info.byDType.end(), CheckpointDTypeTotal{row.dtype});
        ++total->tensors;
        total->elements += row.elements;
        total->bytes += row.bytes;
        info.elements += row.elements;
        info.bytes += row.bytes;
        info.tensors.push_back(std::move(row));
    }
    if (info.elements) info.bitsPerWeight = 8.0 * double(info.bytes) / double(info.elements);
    return info;
}

}  // namespace cwb
