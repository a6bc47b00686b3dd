// Whole-tensor pruning masks (see masks.h).
#include "core/compress/masks.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace cwb {

long long prunedCount(double sparsity, long long count) {
    return std::clamp(static_cast<long long>(std::llround(sparsity * static_cast<double>(count))),
                      0LL, count);
}

std::vector<KeepMask> magnitudeMasks(const std::vector<MatrixView>& tensors, double sparsity) {
    long long total = 0;
    for (const auto& t : tensors) total += t.size();
    std::vector<KeepMask> masks;
    for (const auto& t : tensors)
        masks.emplace_back(static_cast<std::size_t>(t.size()), std::uint8_t{1});
    const long long prune = prunedCount(sparsity, total);
    if (prune == 0) return masks;

    // The prune-th smallest magnitude; everything below it goes, and the ties at it go in
    // order of position until the count is reached.
    std::vector<float> magnitudes;
    magnitudes.reserve(static_cast<std::size_t>(total));
    for (const auto& t : tensors)
        for (long long i = 0; i < t.size(); ++i) magnitudes.push_back(std::fabs(t.data[i]));
    auto kth = magnitudes.begin() + (prune - 1);
    std::nth_element(magnitudes.begin(), kth, magnitudes.end());
    const float cut = *kth;
    long long below = 0;
    for (const auto& t : tensors)
        for (long long i = 0; i < t.size(); ++i) below += std::fabs(t.data[i]) < cut;
    long long ties = prune - below;
    for (std::size_t k = 0; k < tensors.size(); ++k) {
        const auto& t = tensors[k];
        for (long long i = 0; i < t.size(); ++i) {
            const float a = std::fabs(t.data[i]);
            if (a < cut || (a == cut && ties > 0)) {
                if (a == cut) --ties;
                masks[k][static_cast<std::size_t>(i)] = 0;
            }
        }
    }
    return masks;
}

KeepMask structuredMask(const MatrixView& w, double sparsity, bool l2) {
    std::vector<double> norms(static_cast<std::size_t>(w.cols), 0.0);
    for (long long r = 0; r < w.rows; ++r)
        for (long long c = 0; c < w.cols; ++c) {
            const double v = w.at(r, c);
            norms[c] += l2 ? v * v : std::fabs(v);
        }
    std::vector<long long> order(static_cast<std::size_t>(w.cols));
    std::iota(order.begin(), order.end(), 0LL);
    std::stable_sort(order.begin(), order.end(),
                     [&](long long a, long long b) { return norms[a] < norms[b]; });
    std::vector<std::uint8_t> keepColumn(static_cast<std::size_t>(w.cols), 1);
    const long long prune = prunedCount(sparsity, w.cols);
    for (long long k = 0; k < prune; ++k) keepColumn[order[k]] = 0;
    KeepMask mask(static_cast<std::size_t>(w.size()));
    for (long long r = 0; r < w.rows; ++r)
        std::copy(keepColumn.begin(), keepColumn.end(), mask.begin() + r * w.cols);
    return mask;
}

KeepMask nmMask(const MatrixView& w, int n, int m) {
    KeepMask mask(static_cast<std::size_t>(w.size()), std::uint8_t{0});
    std::vector<long long> rows(static_cast<std::size_t>(m));
    for (long long c = 0; c < w.cols; ++c) {
        for (long long r0 = 0; r0 < w.rows; r0 += m) {
            const int len = static_cast<int>(std::min<long long>(m, w.rows - r0));
            std::iota(rows.begin(), rows.begin() + len, r0);
            // Largest magnitude first; stable, so equal magnitudes keep the lower row.
            std::stable_sort(rows.begin(), rows.begin() + len, [&](long long a, long long b) {
                return std::fabs(w.at(a, c)) > std::fabs(w.at(b, c));
            });
            for (int k = 0; k < std::min(n, len); ++k) mask[rows[k] * w.cols + c] = 1;
        }
    }
    return mask;
}

}  // namespace cwb
