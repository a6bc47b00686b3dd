// Reads a variable-length text attribute with the HDF5 C API, in the attribute's own
// character set (HDF5 has no conversion from UTF-8 to ASCII strings), for tests that look
// inside files directly. Returns "" when the attribute cannot be read.
#pragma once

#include <hdf5/serial/hdf5.h>

#include <string>

namespace cwb::test {

inline std::string readTextAttribute(hid_t object, const char* name) {
    const hid_t attribute = H5Aopen(object, name, H5P_DEFAULT);
    const hid_t fileType = H5Aget_type(attribute);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5Tget_cset(fileType));
    char* text = nullptr;
    const bool read = H5Aread(attribute, type, &text) >= 0 && text;
    std::string out = read ? text : "";
    if (read) H5free_memory(text);
    H5Tclose(type);
    H5Tclose(fileType);
    H5Aclose(attribute);
    return out;
}

}  // namespace cwb::test
