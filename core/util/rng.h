// Counter-based random numbers (training, synthetic checkpoints). Every draw is a pure function of
// (seed, stream ids), so dropout masks, shuffles and initial weights do not depend on
// how the work was split across threads.
#pragma once

#include <cstdint>

namespace cwb {

// SplitMix64's finaliser: a well-mixed 64-bit hash of a 64-bit value.
inline std::uint64_t mix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// Hash of a seed and a stream id, for deriving independent sub-streams.
inline std::uint64_t deriveSeed(std::uint64_t seed, std::uint64_t stream) {
    return mix64(seed ^ mix64(stream + 0x632be59bd9b4e019ull));
}

// A sequential generator (SplitMix64): cheap, and good enough for shuffles and init.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : m_state(seed) {}
    std::uint64_t next() {
        m_state += 0x9e3779b97f4a7c15ull;
        std::uint64_t x = m_state;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
        return x ^ (x >> 31);
    }
    // Uniform in [0, 1) with 24 random bits.
    float uniform() { return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }
    // Uniform integer in [0, n), without modulo bias worth caring about for n << 2^32.
    std::uint64_t below(std::uint64_t n) {
        return static_cast<std::uint64_t>((next() >> 32) * n >> 32);
    }

private:
    std::uint64_t m_state;
};

}  // namespace cwb
