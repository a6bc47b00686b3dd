// Builders of small hostile files for the robustness tests: each returns bytes or writes a
// file and returns its path. Nothing here is a large blob; big declared sizes are lies in
// headers, unwritten HDF5 chunks, sparse files or highly compressible streams.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cwb::test::bad {

// Writes `bytes` to `path` and returns `path`.
std::string writeBytes(const std::string& path, const std::string& bytes);
// Copies a file and returns the copy's path.
std::string copyFile(const std::string& from, const std::string& to);
// The first `count` bytes of a file.
std::string readPrefix(const std::string& path, std::size_t count);
// `count` pseudo-random bytes, the same for the same seed.
std::string randomBytes(std::size_t count, unsigned seed);

// An IDX header (unsigned bytes) with these dimensions, without data.
std::string idxHeader(const std::vector<std::uint32_t>& dims);
// A gzip stream of `plain`.
std::string gzip(const std::string& plain);
// A gzip stream of `size` bytes whose compressed body has been overwritten with garbage.
std::string corruptGzip(std::size_t size);

// A safetensors file: the 8-byte little-endian `declaredLength` (the header's real length
// when negative), the header text, then `data`.
std::string safetensors(const std::string& header, const std::string& data,
                        long long declaredLength = -1);
// `depth` nested JSON objects: {"a":{"a":...0}}.
std::string nestedJson(int depth);
// A sparse file of `size` bytes that starts with `head`; the rest is a hole that is never
// written, so the file is that large but takes no disk space.
std::string sparseFile(const std::string& path, const std::string& head, std::uint64_t size);

// An HDF5 file with one dataset of random floats and nothing of Keras.
std::string plainHdf5(const std::string& path);
// Replaces a float dataset of an HDF5 file by one of `shape`. Small shapes are written
// with `values` (repeated as needed); large ones are left unwritten (chunked), so the file
// stays small whatever size the shape declares.
void replaceDataset(const std::string& file, const std::string& dataset,
                    const std::vector<std::uint64_t>& shape, const std::vector<float>& values);
// Sets element `index` of a float32 dataset to `value` (NaN, Inf, ...).
void pokeDataset(const std::string& file, const std::string& dataset, std::uint64_t index,
                 float value);
// Sets a variable-length string attribute on the root group, replacing any of that name.
void setRootAttribute(const std::string& file, const std::string& name, const std::string& text);

// A zip archive of these (name, contents) entries, deflated.
std::string zipFile(const std::string& path,
                    const std::vector<std::pair<std::string, std::string>>& entries);
// The contents of one entry of a zip archive.
std::string zipEntry(const std::string& path, const std::string& name);
// Makes the zip's local and central headers claim `size` uncompressed bytes for `entry`.
void lieAboutZipEntrySize(const std::string& path, const std::string& entry, std::uint32_t size);

}  // namespace cwb::test::bad
