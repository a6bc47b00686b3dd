// Builders of small hostile files for the robustness tests: each returns bytes or writes a
// file and returns its path. Nothing here is a large blob; big declared sizes are lies in
// headers, sparse files or highly compressible streams.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cwb::test::bad {

// Writes `bytes` to `path` and returns `path`.
std::string writeBytes(const std::string& path, const std::string& bytes);
// `count` pseudo-random bytes, the same for the same seed.
std::string randomBytes(std::size_t count, unsigned seed);

// An IDX header (unsigned bytes) with these dimensions, without data.
std::string idxHeader(const std::vector<std::uint32_t>& dims);
// A gzip stream of `size` bytes whose compressed body has been overwritten with garbage.
std::string corruptGzip(std::size_t size);

}  // namespace cwb::test::bad
