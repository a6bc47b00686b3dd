// The Wilson score interval for a proportion: how sure a partial accuracy over the first
// n images is. Better behaved than the normal approximation near 0 and 1 and for small n.
#pragma once

#include <cmath>
#include <utility>

namespace cwb::ui {

// 95 % interval (z = 1.96) for `successes` out of `trials`; (0, 1) when trials == 0.
inline std::pair<double, double> wilsonInterval(long long successes, long long trials,
                                                double z = 1.96) {
    if (trials <= 0) return {0.0, 1.0};
    const double n = double(trials);
    const double p = double(successes) / n;
    const double z2 = z * z;
    const double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    const double half = z / (1 + z2 / n) * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n));
    return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

}  // namespace cwb::ui
