// Hostile file builders (see bad_files.h).
#include "tests/support/bad_files.h"

#include <hdf5.h>
#include <zip.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>

#include "tests/support/test_paths.h"

namespace cwb::test::bad {
namespace {

void require(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error("bad_files: " + what);
}

}  // namespace

std::string writeBytes(const std::string& path, const std::string& bytes) {
    test::writeBytes(path, bytes);
    return path;
}

std::string copyFile(const std::string& from, const std::string& to) {
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
    return to;
}

std::string readPrefix(const std::string& path, std::size_t count) {
    return test::readBytes(path).substr(0, count);
}

std::string randomBytes(std::size_t count, unsigned seed) {
    std::mt19937 generator(seed);
    std::string bytes(count, '\0');
    for (char& c : bytes) c = static_cast<char>(generator() & 0xff);
    return bytes;
}

std::string idxHeader(const std::vector<std::uint32_t>& dims) {
    std::string bytes{'\0', '\0', '\x08', static_cast<char>(dims.size())};
    for (std::uint32_t d : dims)
        for (int shift = 24; shift >= 0; shift -= 8)
            bytes += static_cast<char>((d >> shift) & 0xff);
    return bytes;
}

std::string gzip(const std::string& plain) {
    z_stream stream{};
    deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // +16: gzip wrapper
    std::string out(deflateBound(&stream, plain.size()), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
    stream.avail_in = static_cast<uInt>(plain.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    deflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    return out;
}

std::string corruptGzip(std::size_t size) {
    std::string out = gzip(randomBytes(size, 7));
    // Keep the 10-byte gzip header so gzopen sees gzip, garble the deflate body.
    const std::string garbage = randomBytes(out.size() / 2, 99);
    out.replace(10, garbage.size(), garbage);
    return out;
}

std::string safetensors(const std::string& header, const std::string& data,
                        long long declaredLength) {
    const auto length = static_cast<std::uint64_t>(
        declaredLength < 0 ? static_cast<long long>(header.size()) : declaredLength);
    std::string bytes;
    for (int i = 0; i < 8; ++i) bytes += static_cast<char>((length >> (8 * i)) & 0xff);
    return bytes + header + data;
}

std::string nestedJson(int depth) {
    std::string text;
    for (int i = 0; i < depth; ++i) text += R"({"a":)";
    return text + "0" + std::string(static_cast<std::size_t>(depth), '}');
}

std::string sparseFile(const std::string& path, const std::string& head, std::uint64_t size) {
    writeBytes(path, head);
    std::filesystem::resize_file(path, size);  // a hole: no disk used
    return path;
}

std::string plainHdf5(const std::string& path) {
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    require(file >= 0, "cannot create " + path);
    const hsize_t dims[1] = {16};
    const hid_t space = H5Screate_simple(1, dims, nullptr);
    const hid_t data = H5Dcreate2(file, "measurements", H5T_IEEE_F32LE, space, H5P_DEFAULT,
                                  H5P_DEFAULT, H5P_DEFAULT);
    std::mt19937 generator(3);
    std::vector<float> values(16);
    for (float& v : values) v = static_cast<float>(generator() % 1000) / 7.f;
    H5Dwrite(data, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    H5Dclose(data);
    H5Sclose(space);
    H5Fclose(file);
    return path;
}

void replaceDataset(const std::string& path, const std::string& dataset,
                    const std::vector<std::uint64_t>& shape, const std::vector<float>& values) {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    require(file >= 0, "cannot open " + path);
    require(H5Ldelete(file, dataset.c_str(), H5P_DEFAULT) >= 0, "no dataset " + dataset);
    std::vector<hsize_t> dims(shape.begin(), shape.end());
    hsize_t count = 1;
    for (hsize_t d : dims) count *= d;
    const bool small = count <= (1u << 20);
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t create = H5Pcreate(H5P_DATASET_CREATE);
    if (!small) {
        std::vector<hsize_t> chunk(dims.size(), 1);
        chunk.back() = std::min<hsize_t>(dims.back(), 1024);
        H5Pset_chunk(create, static_cast<int>(chunk.size()), chunk.data());
    }
    const hid_t data =
        H5Dcreate2(file, dataset.c_str(), H5T_IEEE_F32LE, space, H5P_DEFAULT, create, H5P_DEFAULT);
    require(data >= 0, "cannot create " + dataset);
    if (small && !values.empty()) {
        std::vector<float> filled(count);
        for (hsize_t i = 0; i < count; ++i) filled[i] = values[i % values.size()];
        H5Dwrite(data, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, filled.data());
    }
    H5Dclose(data);
    H5Pclose(create);
    H5Sclose(space);
    H5Fclose(file);
}

void pokeDataset(const std::string& path, const std::string& dataset, std::uint64_t index,
                 float value) {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    require(file >= 0, "cannot open " + path);
    const hid_t data = H5Dopen2(file, dataset.c_str(), H5P_DEFAULT);
    require(data >= 0, "no dataset " + dataset);
    const hid_t space = H5Dget_space(data);
    const int rank = H5Sget_simple_extent_ndims(space);
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank)), at(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    for (int d = rank - 1; d >= 0; --d) {  // flat index -> coordinates, row-major
        at[static_cast<std::size_t>(d)] = index % dims[static_cast<std::size_t>(d)];
        index /= dims[static_cast<std::size_t>(d)];
    }
    H5Sselect_elements(space, H5S_SELECT_SET, 1, at.data());
    const hsize_t one = 1;
    const hid_t memory = H5Screate_simple(1, &one, nullptr);
    require(H5Dwrite(data, H5T_NATIVE_FLOAT, memory, space, H5P_DEFAULT, &value) >= 0,
            "cannot write " + dataset);
    H5Sclose(memory);
    H5Sclose(space);
    H5Dclose(data);
    H5Fclose(file);
}

void setRootAttribute(const std::string& path, const std::string& name, const std::string& text) {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    require(file >= 0, "cannot open " + path);
    if (H5Aexists(file, name.c_str()) > 0) H5Adelete(file, name.c_str());
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attribute = H5Acreate2(file, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
    const char* value = text.c_str();
    require(H5Awrite(attribute, type, &value) >= 0, "cannot write attribute " + name);
    H5Aclose(attribute);
    H5Sclose(space);
    H5Tclose(type);
    H5Fclose(file);
}

std::string zipFile(const std::string& path,
                    const std::vector<std::pair<std::string, std::string>>& entries) {
    std::filesystem::remove(path);
    int error = 0;
    zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
    require(archive != nullptr, "cannot create " + path);
    for (const auto& [name, contents] : entries) {
        // libzip reads the buffer at zip_close; the entries outlive it.
        zip_source_t* source = zip_source_buffer(archive, contents.data(), contents.size(), 0);
        require(zip_file_add(archive, name.c_str(), source, ZIP_FL_OVERWRITE) >= 0,
                "cannot add " + name);
        zip_set_file_compression(
            archive, static_cast<zip_uint64_t>(zip_name_locate(archive, name.c_str(), 0)),
            ZIP_CM_DEFLATE, 9);
    }
    require(zip_close(archive) == 0, "cannot write " + path);
    return path;
}

std::string zipEntry(const std::string& path, const std::string& name) {
    int error = 0;
    zip_t* archive = zip_open(path.c_str(), ZIP_RDONLY, &error);
    require(archive != nullptr, "cannot open " + path);
    zip_stat_t stat;
    require(zip_stat(archive, name.c_str(), 0, &stat) == 0, "no " + name + " in " + path);
    std::string contents(stat.size, '\0');
    zip_file_t* file = zip_fopen(archive, name.c_str(), 0);
    const bool ok =
        file && zip_fread(file, contents.data(), stat.size) == static_cast<zip_int64_t>(stat.size);
    if (file) zip_fclose(file);
    zip_discard(archive);
    require(ok, "cannot read " + name + " from " + path);
    return contents;
}

void lieAboutZipEntrySize(const std::string& path, const std::string& entry, std::uint32_t size) {
    std::string bytes = test::readBytes(path);
    auto put32 = [&](std::size_t at) {
        for (int i = 0; i < 4; ++i)
            bytes[at + static_cast<std::size_t>(i)] = static_cast<char>((size >> (8 * i)) & 0xff);
    };
    // Local header: signature, then the name at offset 30; uncompressed size at 22.
    // Central header: name at offset 46; uncompressed size at 24.
    int patched = 0;
    for (std::size_t at = 0; (at = bytes.find("PK", at)) != std::string::npos; ++at) {
        if (bytes.compare(at, 4, "PK\x03\x04") == 0 &&
            bytes.compare(at + 30, entry.size(), entry) == 0)
            put32(at + 22), ++patched;
        if (bytes.compare(at, 4, "PK\x01\x02") == 0 &&
            bytes.compare(at + 46, entry.size(), entry) == 0)
            put32(at + 24), ++patched;
    }
    require(patched == 2, "entry " + entry + " not found in " + path);
    writeBytes(path, bytes);
}

}  // namespace cwb::test::bad
