// HDF5 RAII and read helpers (see hdf5_file.h).
#include "core/io/hdf5_file.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/io/tensor_checks.h"
#include "core/util/memory.h"

namespace cwb::h5 {
namespace {

constexpr std::size_t kMaxAttributeBytes = std::size_t(256) << 20;  // far above any Keras config
constexpr std::size_t kMaxAttributeChunks = 10000;
constexpr int kMaxGroupDepth = 32;
constexpr std::size_t kMaxDatasets = 1000000;

herr_t collectMessage(unsigned, const H5E_error2_t* error, void* data) {
    auto* messages = static_cast<std::vector<std::string>*>(data);
    if (error && error->desc && *error->desc) messages->emplace_back(error->desc);
    return 0;
}

std::string oneLine(std::string text) {
    std::replace_if(
        text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    return text;
}

// Numbers compare by value so that vars/2 comes before vars/10.
bool naturalLess(const std::string& a, const std::string& b) {
    std::size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        if (std::isdigit(static_cast<unsigned char>(a[i])) &&
            std::isdigit(static_cast<unsigned char>(b[j]))) {
            std::size_t ei = i, ej = j;
            while (ei < a.size() && std::isdigit(static_cast<unsigned char>(a[ei]))) ++ei;
            while (ej < b.size() && std::isdigit(static_cast<unsigned char>(b[ej]))) ++ej;
            std::string na = a.substr(i, ei - i), nb = b.substr(j, ej - j);
            na.erase(0, std::min(na.find_first_not_of('0'), na.size()));
            nb.erase(0, std::min(nb.find_first_not_of('0'), nb.size()));
            if (na.size() != nb.size()) return na.size() < nb.size();
            if (na != nb) return na < nb;
            i = ei;
            j = ej;
        } else {
            if (a[i] != b[j]) return a[i] < b[j];
            ++i;
            ++j;
        }
    }
    return a.size() - i < b.size() - j;
}

std::vector<std::string> readOneAttribute(hid_t object, const std::string& name,
                                          const std::string& where) {
    const std::string what = "attribute '" + name + "'";
    Handle attribute =
        checked(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose, where, "cannot open " + what);
    Handle type =
        checked(H5Aget_type(attribute.get()), H5Tclose, where, "cannot read the type of " + what);
    Handle space =
        checked(H5Aget_space(attribute.get()), H5Sclose, where, "cannot read the shape of " + what);
    const hssize_t points = H5Sget_simple_extent_npoints(space.get());
    if (points < 0) fail(where, "cannot read the shape of " + what);
    const std::size_t count = static_cast<std::size_t>(points);
    if (H5Tget_class(type.get()) != H5T_STRING) {
        if (count == 0) return {};
        throw Error(where + ": " + what +
                    " is not text; the file is not a Keras model or is corrupt");
    }
    if (count > kMaxAttributeBytes / 8)
        throw Error(where + ": " + what + " holds too many strings; the file is corrupt");
    const H5T_cset_t cset = H5Tget_cset(type.get());
    std::vector<std::string> out;
    out.reserve(count);
    if (H5Tis_variable_str(type.get()) > 0) {
        Handle memory = checked(H5Tcopy(H5T_C_S1), H5Tclose, where, "cannot read " + what);
        check(H5Tset_size(memory.get(), H5T_VARIABLE), where, "cannot read " + what);
        if (cset >= 0) H5Tset_cset(memory.get(), cset);
        std::vector<char*> pointers(count, nullptr);
        const herr_t status = H5Aread(attribute.get(), memory.get(), pointers.data());
        // A read that fails part way has already allocated some strings: free them too.
        if (status >= 0)
            for (const char* p : pointers) out.emplace_back(p ? p : "");
        H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, pointers.data());
        check(status, where, "cannot read " + what);
    } else {
        const std::size_t width = H5Tget_size(type.get());
        if (width == 0 || count > kMaxAttributeBytes / width)
            throw Error(where + ": " + what + " is too large; the file is corrupt");
        Handle memory = checked(H5Tcopy(H5T_C_S1), H5Tclose, where, "cannot read " + what);
        check(H5Tset_size(memory.get(), width), where, "cannot read " + what);
        check(H5Tset_strpad(memory.get(), H5T_STR_NULLPAD), where, "cannot read " + what);
        if (cset >= 0) H5Tset_cset(memory.get(), cset);
        std::vector<char> buffer(width * count);
        check(H5Aread(attribute.get(), memory.get(), buffer.data()), where, "cannot read " + what);
        const bool spacePadded = H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD;
        for (std::size_t i = 0; i < count; ++i) {
            const char* begin = buffer.data() + i * width;
            std::string text(begin, std::find(begin, begin + width, '\0'));
            if (spacePadded) text.erase(text.find_last_not_of(' ') + 1);
            out.push_back(std::move(text));
        }
    }
    return out;
}

struct LinkList {
    std::vector<std::string> names;
    bool tooMany = false;
};

herr_t collectLink(hid_t, const char* name, const H5L_info_t* info, void* data) {
    auto* list = static_cast<LinkList*>(data);
    if (info && info->type != H5L_TYPE_HARD)
        return 0;  // soft/external links could loop or leave the file
    if (list->names.size() >= kMaxDatasets) {
        list->tooMany = true;
        return 1;
    }
    list->names.emplace_back(name);
    return 0;
}

void listInto(hid_t group, const std::string& prefix, int depth, const std::string& where,
              std::vector<std::string>& out) {
    if (depth > kMaxGroupDepth)
        throw Error(where + ": groups nested more than " + std::to_string(kMaxGroupDepth) +
                    " deep; the file is corrupt");
    LinkList links;
    hsize_t index = 0;
    if (H5Literate(group, H5_INDEX_NAME, H5_ITER_NATIVE, &index, collectLink, &links) < 0)
        fail(where, "cannot list group '" + (prefix.empty() ? std::string("/") : prefix) + "'");
    if (links.tooMany) throw Error(where + ": more than a million objects; the file is corrupt");
    for (const std::string& name : links.names) {
        Handle object = checked(H5Oopen(group, name.c_str(), H5P_DEFAULT), H5Oclose, where,
                                "cannot open '" + prefix + name + "'");
        const H5I_type_t type = H5Iget_type(object.get());
        if (type == H5I_GROUP)
            listInto(object.get(), prefix + name + "/", depth + 1, where, out);
        else if (type == H5I_DATASET)
            out.push_back(prefix + name);
        if (out.size() > kMaxDatasets)
            throw Error(where + ": more than a million datasets; the file is corrupt");
    }
}

}  // namespace

Handle& Handle::operator=(Handle&& other) noexcept {
    if (this != &other) {
        reset();
        m_id = other.m_id;
        m_close = other.m_close;
        other.m_id = H5I_INVALID_HID;
    }
    return *this;
}

void Handle::reset() { close(); }

herr_t Handle::close() {
    herr_t status = 0;
    if (m_id >= 0 && m_close) status = m_close(m_id);
    m_id = H5I_INVALID_HID;
    return status;
}

std::string errorDetail() {
    std::vector<std::string> messages;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collectMessage, &messages);
    H5Eclear2(H5E_DEFAULT);
    return messages.empty() ? std::string() : oneLine(messages.back());
}

void fail(const std::string& where, const std::string& what) {
    const std::string detail = errorDetail();
    throw Error(where + ": " + what + (detail.empty() ? "" : " (" + detail + ")"));
}

Handle checked(hid_t id, Handle::Closer close, const std::string& where, const std::string& what) {
    if (id < 0) fail(where, what);
    return Handle(id, close);
}

void check(herr_t status, const std::string& where, const std::string& what) {
    if (status < 0) fail(where, what);
}

std::chrono::milliseconds hdf5ReadTimeout(std::uint64_t fileBytes) {
    // Generous: a healthy Keras file parses in milliseconds; only a looping one runs out.
    return std::chrono::seconds(20) + std::chrono::milliseconds(fileBytes / (1 << 20) * 20);
}

Handle openFile(const std::string& path) {
    Handle access = checked(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, path, "cannot set up HDF5");
    // Reading needs no lock, and flock() fails on some network file systems.
    check(H5Pset_file_locking(access.get(), false, true), path, "cannot set up HDF5");
    return checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, access.get()), H5Fclose, path,
                   "cannot open as HDF5; the file is truncated or corrupt");
}

namespace {

// File-image callbacks that hand HDF5 the caller's buffer instead of copies of it
// (H5LTopen_file_image does the same but leaks its bookkeeping on every call). HDF5 asks
// for "allocations" of the image when the property is set, copied, read and when the core
// driver opens the file; each gets the one buffer, and "copies" onto itself are skipped.
// The file is read-only, so HDF5 never resizes the image.
void* imageMalloc(std::size_t size, H5FD_file_image_op_t, void* udata) {
    auto* image = static_cast<FileImage*>(udata);
    return size <= image->size ? image->data : nullptr;
}
void* imageMemcpy(void* dest, const void* src, std::size_t size, H5FD_file_image_op_t, void*) {
    if (dest != src) std::memcpy(dest, src, size);
    return dest;
}
void* imageRealloc(void*, std::size_t, H5FD_file_image_op_t, void*) { return nullptr; }
herr_t imageFree(void*, H5FD_file_image_op_t, void*) { return 0; }
void* udataCopy(void* udata) { return udata; }
herr_t udataFree(void*) { return 0; }

}  // namespace

Handle openFileImage(FileImage& image, const std::string& where) {
    const std::string what = "cannot open as HDF5; the data is truncated or corrupt";
    Handle access = checked(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, where, what);
    check(H5Pset_fapl_core(access.get(), 1 << 16, false), where, what);
    H5FD_file_image_callbacks_t callbacks{imageMalloc, imageMemcpy, imageRealloc, imageFree,
                                          udataCopy,   udataFree,   &image};
    check(H5Pset_file_image_callbacks(access.get(), &callbacks), where, what);
    check(H5Pset_file_image(access.get(), image.data, image.size), where, what);
    // The name only labels the image; nothing is read from or written to disk.
    return checked(H5Fopen("cwb-in-memory.h5", H5F_ACC_RDONLY, access.get()), H5Fclose, where,
                   what);
}

Handle tryOpenGroup(hid_t location, const std::string& path) {
    const hid_t object = H5Oopen(location, path.c_str(), H5P_DEFAULT);
    if (object < 0) {
        H5Eclear2(H5E_DEFAULT);
        return {};
    }
    if (H5Iget_type(object) != H5I_GROUP) {
        H5Oclose(object);
        return {};
    }
    return Handle(object, H5Oclose);
}

bool hasAttribute(hid_t object, const std::string& name) {
    const htri_t exists = H5Aexists(object, name.c_str());
    if (exists < 0) H5Eclear2(H5E_DEFAULT);
    return exists > 0;
}

std::vector<std::string> readStrings(hid_t object, const std::string& name,
                                     const std::string& where) {
    if (hasAttribute(object, name)) return readOneAttribute(object, name, where);
    std::vector<std::string> out;
    std::size_t chunk = 0;
    for (; chunk < kMaxAttributeChunks && hasAttribute(object, name + std::to_string(chunk));
         ++chunk) {
        auto part = readOneAttribute(object, name + std::to_string(chunk), where);
        out.insert(out.end(), part.begin(), part.end());
    }
    if (chunk == 0)
        throw Error(where + ": attribute '" + name +
                    "' is missing; the file is not a Keras model or is corrupt");
    return out;
}

std::string readString(hid_t object, const std::string& name, const std::string& where) {
    const auto strings = readStrings(object, name, where);
    if (strings.size() != 1)
        throw Error(where + ": attribute '" + name + "' holds " + std::to_string(strings.size()) +
                    " strings, expected one; the file is corrupt");
    return strings.front();
}

Tensor readDataset(hid_t location, const std::string& path, const std::string& where,
                   bool asFloat32) {
    Handle dataset = checked(H5Dopen2(location, path.c_str(), H5P_DEFAULT), H5Dclose, where,
                             "cannot open dataset '" + path + "'");
    Handle space = checked(H5Dget_space(dataset.get()), H5Sclose, where,
                           "cannot read the shape of '" + path + "'");
    if (H5Sget_simple_extent_type(space.get()) != H5S_SIMPLE &&
        H5Sget_simple_extent_type(space.get()) != H5S_SCALAR)
        throw Error(where + ": dataset '" + path + "' holds no data; the file is corrupt");
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0 || rank > H5S_MAX_RANK) fail(where, "cannot read the shape of '" + path + "'");
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
        fail(where, "cannot read the shape of '" + path + "'");
    Shape shape;
    for (const hsize_t d : dims) {
        if (d > static_cast<hsize_t>(std::numeric_limits<std::int64_t>::max()))
            throw Error(where + ": dataset '" + path +
                        "' has an impossible shape; the file is corrupt");
        shape.push_back(static_cast<std::int64_t>(d));
    }
    const std::int64_t elements =
        checkedElements(shape, std::numeric_limits<std::int64_t>::max() / 8);
    if (elements < 0)
        throw Error(where + ": dataset '" + path + "' has shape " + shapeToString(shape) +
                    ", too large to exist; the file is corrupt");

    Handle type = checked(H5Dget_type(dataset.get()), H5Tclose, where,
                          "cannot read the type of '" + path + "'");
    const H5T_class_t typeClass = H5Tget_class(type.get());
    const std::size_t width = H5Tget_size(type.get());
    DType dtype;
    hid_t memoryType;
    if (typeClass == H5T_FLOAT && (width == 2 || width == 4 || width == 8)) {
        const bool keepDouble = !asFloat32 && width == 8;
        dtype = keepDouble ? DType::F64 : DType::F32;
        memoryType = keepDouble ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT;
    } else if (typeClass == H5T_INTEGER && !asFloat32 &&
               (width == 1 || width == 2 || width == 4 || width == 8)) {
        const bool isSigned = H5Tget_sign(type.get()) == H5T_SGN_2;
        switch (width) {
            case 1:
                dtype = isSigned ? DType::I8 : DType::U8;
                memoryType = isSigned ? H5T_NATIVE_INT8 : H5T_NATIVE_UINT8;
                break;
            case 2:
                dtype = isSigned ? DType::I16 : DType::U16;
                memoryType = isSigned ? H5T_NATIVE_INT16 : H5T_NATIVE_UINT16;
                break;
            case 4:
                dtype = isSigned ? DType::I32 : DType::U32;
                memoryType = isSigned ? H5T_NATIVE_INT32 : H5T_NATIVE_UINT32;
                break;
            default:
                dtype = isSigned ? DType::I64 : DType::U64;
                memoryType = isSigned ? H5T_NATIVE_INT64 : H5T_NATIVE_UINT64;
                break;
        }
    } else {
        throw Error(where + ": dataset '" + path + "' holds " +
                    (typeClass == H5T_INTEGER ? "integers" : "a non-numeric type") + " of " +
                    std::to_string(width) + " bytes; weights must be float16, float32 or float64");
    }
    const std::uint64_t bytes = static_cast<std::uint64_t>(elements) * dtypeSize(dtype);
    ensureFitsInMemory(bytes, where + ": dataset '" + path + "' " + shapeToString(shape));
    auto storage = std::make_shared<OwnedStorage>(static_cast<std::size_t>(bytes));
    if (elements > 0)
        check(H5Dread(dataset.get(), memoryType, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                      storage->mutableData()),
              where, "cannot read dataset '" + path + "'; the file is truncated or corrupt");
    return Tensor(std::move(shape), dtype, std::move(storage));
}

std::vector<std::string> listDatasets(hid_t group, const std::string& where) {
    std::vector<std::string> out;
    listInto(group, "", 0, where, out);
    std::sort(out.begin(), out.end(), naturalLess);
    return out;
}

}  // namespace cwb::h5
