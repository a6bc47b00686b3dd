// Small RAII and read helpers over the HDF5 C API, shared by the Keras readers and writer.
// Internal to core/io: it includes <hdf5.h>, which only core sees. Call everything here
// while holding lockHdf5(). Errors are cwb::Error with one line naming `where`.
#pragma once

#include <hdf5.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/model/tensor.h"

namespace cwb::h5 {

// Owns one hid_t and closes it with the matching H5?close.
class Handle {
public:
    using Closer = herr_t (*)(hid_t);
    Handle() = default;
    Handle(hid_t id, Closer close) : m_id(id), m_close(close) {}
    ~Handle() { reset(); }
    Handle(Handle&& other) noexcept : m_id(other.m_id), m_close(other.m_close) {
        other.m_id = H5I_INVALID_HID;
    }
    Handle& operator=(Handle&& other) noexcept;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    hid_t get() const { return m_id; }
    bool valid() const { return m_id >= 0; }
    void reset();
    // Closes now and reports a failure (a write that HDF5 only flushes on close).
    herr_t close();

private:
    hid_t m_id = H5I_INVALID_HID;
    Closer m_close = nullptr;
};

// The most specific message on HDF5's error stack (then clears it), or "".
std::string errorDetail();
// Throws cwb::Error "<where>: <what> (<HDF5 detail>)".
[[noreturn]] void fail(const std::string& where, const std::string& what);
// Wraps `id`, throwing via fail() when it is negative.
Handle checked(hid_t id, Handle::Closer close, const std::string& where, const std::string& what);
// Throws via fail() when status is negative.
void check(herr_t status, const std::string& where, const std::string& what);

// Time a reading child process (core/util/child_process.h) gets to parse an HDF5 file of this size.
std::chrono::milliseconds hdf5ReadTimeout(std::uint64_t fileBytes);

Handle openFile(const std::string& path);
// Bytes of an HDF5 file held in memory, opened read-only without copying them.
struct FileImage {
    void* data = nullptr;
    std::size_t size = 0;
};
// Opens `image` read-only; `image` (the struct and its bytes) must outlive the handle.
Handle openFileImage(FileImage& image, const std::string& where);
// Opens a group or returns an invalid handle when the path does not lead to one.
Handle tryOpenGroup(hid_t location, const std::string& path);

bool hasAttribute(hid_t object, const std::string& name);
// A string attribute, scalar or array, fixed- or variable-length. An empty non-string array
// (Keras writes np.array([]) for "no weights") reads as no strings. Keras splits long
// attributes into name0, name1, ...; those are joined.
std::vector<std::string> readStrings(hid_t object, const std::string& name,
                                     const std::string& where);
// A single string attribute (scalar or one-element array).
std::string readString(hid_t object, const std::string& name, const std::string& where);

// Reads a dataset relative to `location`. Floating-point data of any width is converted to
// float32 when asFloat32, else kept as F64/F32 (F16 widened to F32) or the integer type.
// Checks the element count against available memory before allocating.
Tensor readDataset(hid_t location, const std::string& path, const std::string& where,
                   bool asFloat32);

// Paths of every dataset under `group` (recursively, natural order), relative to it.
std::vector<std::string> listDatasets(hid_t group, const std::string& where);

}  // namespace cwb::h5
