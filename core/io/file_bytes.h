// Small file facts for the model readers: a file's size and its first bytes (what the reader
// registry probes). Whole files are memory-mapped (core/util/mapped_file.h), not read.
#pragma once

#include <cstdint>
#include <string>

namespace cwb {

// Size of a regular file; throws cwb::Error "<path>: file not found" / "is not a regular file".
std::uint64_t regularFileSize(const std::string& path);

// The first `count` bytes of a file (fewer when the file is shorter).
std::string readFilePrefix(const std::string& path, std::size_t count);

}  // namespace cwb
