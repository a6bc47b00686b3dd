// A llama.cpp block format on one matrix, and the figures of its values against the original:
// on the CPU row by row in the matrix's own dtype (no float32 copy), or through a backend's
// block pass (Backend::runBlockPass) over a float32 copy. Both give the same bytes and counts
// and the same sums to float32 rounding. Internal to core/llm (llm_compress.cpp).
#pragma once

#include <memory>
#include <vector>

#include "core/model/tensor.h"
#include "core/stats/row_comparison.h"
#include "core/util/progress.h"

namespace cwb {

class Backend;

// Every row of a 2-D `source` encoded by the format's reference quantizer into owned storage.
// `progress` is asked every 16 rows of worker 0 (a few ms of the K formats' search), so a
// window's stale request stops within milliseconds even on a 7B matrix.
Tensor quantizeMatrix(const Tensor& source, DType format, int threads,
                      const Progress& progress = {});

class BlockMeasure {
public:
    // Null `backend`: the CPU's route, which packs here. `source` must outlive the measure.
    BlockMeasure(const Tensor& source, DType format, Backend* backend, int threads,
                 const Progress& progress);
    // compareRows's figures of the packed values against `source` for `options` (its
    // threads are the constructor's); on a backend the first call also packs.
    TensorStats measure(const RowComparisonOptions& options);
    // The packed matrix, once packed.
    const Tensor& packed() const { return m_packed; }
    // rowRange of `source`: found while copying it on a backend, a pass of its own on the CPU.
    const RowRange& range();

private:
    const Tensor& m_source;
    DType m_format;
    Backend* m_backend;
    int m_threads;
    Progress m_progress;
    Tensor m_packed;
    std::shared_ptr<OwnedStorage> m_blocks;  // m_packed's storage until a backend has packed
    std::unique_ptr<float[]> m_values;       // a backend's float32 copy of `source`
    float m_min = 0.f, m_max = 0.f;          // of m_values, as compareRows finds them
    RowRange m_range;
    bool m_hasRange = false;
};

}  // namespace cwb
