// Writes the fuzzers' seed corpora (fuzz/seeds/<entry>/) from the real fixtures, small
// enough to commit and to mutate quickly:
//  - keras_h5, keras_zip: each fixture's HDF5 tree with every group, attribute, dataset
//    name, type and shape intact, but the datasets left unwritten (they read as zeros) and
//    the optimizer state dropped: kilobytes instead of megabytes, same structure.
//  - keras_config: the model_config attribute of each .h5 and config.json of each .keras.
//  - safetensors: small hand-made files covering every dtype, rank 0, empty and metadata.
// Run by hand after fixtures change:  build/fuzz/make_seeds tests/fixtures/models fuzz/seeds
#include <hdf5.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

void check(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error(what);
}

std::vector<char> readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    check(bool(in), "cannot read " + path.string());
    return {std::istreambuf_iterator<char>(in), {}};
}

void writeFile(const fs::path& path, const void* data, std::size_t size) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    check(bool(out), "cannot write " + path.string());
    std::cout << path.string() << " (" << size << " bytes)\n";
}

herr_t copyAttribute(hid_t source, const char* name, const H5A_info_t*, void* target) {
    const hid_t attribute = H5Aopen(source, name, H5P_DEFAULT);
    const hid_t type = H5Aget_type(attribute);
    const hid_t space = H5Aget_space(attribute);
    const hid_t memory = H5Tget_native_type(type, H5T_DIR_ASCEND);
    const auto points = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space));
    std::vector<char> buffer(points * H5Tget_size(memory) + 1);
    herr_t status = H5Aread(attribute, memory, buffer.data());
    const hid_t copy =
        H5Acreate2(*static_cast<hid_t*>(target), name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (status >= 0 && copy >= 0) status = H5Awrite(copy, memory, buffer.data());
    if (H5Tdetect_class(memory, H5T_VLEN) > 0 || H5Tis_variable_str(memory) > 0)
        H5Dvlen_reclaim(memory, space, H5P_DEFAULT, buffer.data());
    H5Aclose(copy);
    H5Tclose(memory);
    H5Sclose(space);
    H5Tclose(type);
    H5Aclose(attribute);
    return copy < 0 ? -1 : status;
}

void copyAttributes(hid_t source, hid_t target) {
    check(H5Aiterate2(source, H5_INDEX_NAME, H5_ITER_INC, nullptr, copyAttribute, &target) >= 0,
          "copying attributes failed");
}

// Recreates a dataset with its type and shape, chunked and compressed but never written:
// HDF5 then reads it as its fill value (zeros) and the file stays tiny.
void copyEmptyDataset(hid_t source, hid_t targetFile, const char* path) {
    const hid_t dataset = H5Dopen2(source, path, H5P_DEFAULT);
    const hid_t type = H5Dget_type(dataset);
    const hid_t space = H5Dget_space(dataset);
    const int rank = H5Sget_simple_extent_ndims(space);
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    const hid_t create = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(create, false);
    bool chunkable = rank > 0;
    for (hsize_t d : dims) chunkable = chunkable && d > 0;
    if (chunkable) {
        H5Pset_chunk(create, rank, dims.data());
        H5Pset_deflate(create, 6);
    }
    const hid_t copy = H5Dcreate2(targetFile, path, type, space, H5P_DEFAULT, create, H5P_DEFAULT);
    check(copy >= 0, std::string("cannot create dataset ") + path);
    if (!chunkable && H5Sget_simple_extent_npoints(space) > 0) {  // scalars: copy the value
        std::vector<char> value(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)) *
                                H5Tget_size(type));
        H5Dread(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, value.data());
        H5Dwrite(copy, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, value.data());
    }
    copyAttributes(dataset, copy);
    H5Dclose(copy);
    H5Pclose(create);
    H5Sclose(space);
    H5Tclose(type);
    H5Dclose(dataset);
}

struct ShrinkState {
    hid_t target;
};

herr_t shrinkObject(hid_t source, const char* path, const H5O_info_t* info, void* data) {
    const hid_t target = static_cast<ShrinkState*>(data)->target;
    if (std::strcmp(path, ".") == 0) {
        copyAttributes(source, target);
        return 0;
    }
    if (std::strncmp(path, "optimizer_weights", 17) == 0) return 0;  // training state only
    if (info->type == H5O_TYPE_GROUP) {
        const hid_t create = H5Pcreate(H5P_GROUP_CREATE);
        H5Pset_obj_track_times(create, false);
        const hid_t from = H5Gopen2(source, path, H5P_DEFAULT);
        const hid_t to = H5Gcreate2(target, path, H5P_DEFAULT, create, H5P_DEFAULT);
        check(to >= 0, std::string("cannot create group ") + path);
        copyAttributes(from, to);
        H5Gclose(to);
        H5Gclose(from);
        H5Pclose(create);
    } else if (info->type == H5O_TYPE_DATASET) {
        copyEmptyDataset(source, target, path);
    }
    return 0;
}

void shrinkH5(const fs::path& from, const fs::path& to) {
    const hid_t source = H5Fopen(from.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    check(source >= 0, "cannot open " + from.string());
    const hid_t target = H5Fcreate(to.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    check(target >= 0, "cannot create " + to.string());
    ShrinkState state{target};
    check(H5Ovisit(source, H5_INDEX_NAME, H5_ITER_INC, shrinkObject, &state) >= 0,
          "walking " + from.string() + " failed");
    H5Fclose(target);
    H5Fclose(source);
    std::cout << to.string() << " (" << fs::file_size(to) << " bytes)\n";
}

std::string readStringAttribute(const fs::path& file, const char* name) {
    const hid_t h5 = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (h5 < 0 || H5Aexists(h5, name) <= 0) {
        if (h5 >= 0) H5Fclose(h5);
        return {};
    }
    const hid_t attribute = H5Aopen(h5, name, H5P_DEFAULT);
    const hid_t type = H5Aget_type(attribute);
    std::string text;
    if (H5Tis_variable_str(type) > 0) {
        char* value = nullptr;
        H5Aread(attribute, type, &value);
        if (value) text = value;
        H5free_memory(value);
    } else {
        text.resize(H5Tget_size(type));
        H5Aread(attribute, type, text.data());
        text.resize(std::strlen(text.c_str()));
    }
    H5Tclose(type);
    H5Aclose(attribute);
    H5Fclose(h5);
    return text;
}

// Copies a .keras zip with its model.weights.h5 shrunk; also returns its config.json.
std::string shrinkKeras(const fs::path& from, const fs::path& to, const fs::path& scratch) {
    int error = 0;
    zip_t* source = zip_open(from.c_str(), ZIP_RDONLY, &error);
    check(source != nullptr, "cannot open " + from.string());
    fs::remove(to);
    zip_t* target = zip_open(to.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
    check(target != nullptr, "cannot create " + to.string());
    std::vector<std::vector<char>> keep;  // libzip reads the buffers at zip_close
    keep.reserve(static_cast<std::size_t>(zip_get_num_entries(source, 0)));
    std::string config;
    for (zip_int64_t i = 0; i < zip_get_num_entries(source, 0); ++i) {
        zip_stat_t stat;
        zip_stat_index(source, static_cast<zip_uint64_t>(i), 0, &stat);
        std::vector<char> bytes(stat.size);
        zip_file_t* file = zip_fopen_index(source, static_cast<zip_uint64_t>(i), 0);
        check(
            file && zip_fread(file, bytes.data(), stat.size) == static_cast<zip_int64_t>(stat.size),
            std::string("cannot read ") + stat.name);
        zip_fclose(file);
        const std::string name = stat.name;
        if (name.size() > 3 && name.substr(name.size() - 3) == ".h5") {
            const fs::path big = scratch / "inner.h5", small = scratch / "inner.small.h5";
            writeFile(big, bytes.data(), bytes.size());
            shrinkH5(big, small);
            bytes = readFile(small);
        }
        if (name == "config.json") config.assign(bytes.begin(), bytes.end());
        keep.push_back(std::move(bytes));
        zip_source_t* data = zip_source_buffer(target, keep.back().data(), keep.back().size(), 0);
        check(zip_file_add(target, name.c_str(), data, ZIP_FL_OVERWRITE) >= 0,
              "cannot add " + name);
    }
    check(zip_close(target) == 0, "cannot write " + to.string());
    zip_discard(source);
    std::cout << to.string() << " (" << fs::file_size(to) << " bytes)\n";
    return config;
}

// A safetensors file: 8-byte little-endian header length, JSON header, data.
void writeSafetensors(const fs::path& path, std::string header,
                      const std::vector<unsigned char>& data) {
    while (header.size() % 8) header += ' ';
    std::vector<unsigned char> bytes(8);
    for (int i = 0; i < 8; ++i)
        bytes[static_cast<std::size_t>(i)] = static_cast<unsigned char>(header.size() >> (8 * i));
    bytes.insert(bytes.end(), header.begin(), header.end());
    bytes.insert(bytes.end(), data.begin(), data.end());
    writeFile(path, bytes.data(), bytes.size());
}

void writeSafetensorsSeeds(const fs::path& dir) {
    std::vector<unsigned char> f32(24);
    const float values[6] = {1.f, -2.f, 0.5f, 0.f, 3.25f, -0.125f};
    std::memcpy(f32.data(), values, sizeof values);
    writeSafetensors(dir / "f32_2x3.safetensors",
                     R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})", f32);
    writeSafetensors(
        dir / "metadata.safetensors",
        R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[6],"data_offsets":[0,24]}})",
        f32);
    std::vector<unsigned char> mixed{0x00, 0x3c, 0x80, 0x3f,              // F16 1, BF16 1
                                     7,    0,    0,    0,    0, 0, 0, 0,  // I64 scalar 7
                                     1,    2,    3,    0xff,              // U8 x4
                                     1,    0,                             // BOOL x2
                                     0xfe, 0x7f};                         // I8 x2
    writeSafetensors(dir / "mixed_dtypes.safetensors",
                     R"({"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},)"
                     R"("bf":{"dtype":"BF16","shape":[1],"data_offsets":[2,4]},)"
                     R"("step":{"dtype":"I64","shape":[],"data_offsets":[4,12]},)"
                     R"("px":{"dtype":"U8","shape":[2,2],"data_offsets":[12,16]},)"
                     R"("mask":{"dtype":"BOOL","shape":[2],"data_offsets":[16,18]},)"
                     R"("q":{"dtype":"I8","shape":[2,1],"data_offsets":[18,20]}})",
                     mixed);
    writeSafetensors(dir / "empty.safetensors", "{}", {});
    writeSafetensors(dir / "zero_size.safetensors",
                     R"({"none":{"dtype":"F64","shape":[0,4],"data_offsets":[0,0]}})", {});
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: make_seeds FIXTURES_DIR SEEDS_DIR\n";
        return 2;
    }
    const fs::path fixtures = argv[1], seeds = argv[2];
    const fs::path scratch =
        fs::temp_directory_path() / ("cwb-seeds-" + std::to_string(::getpid()));
    try {
        fs::create_directories(scratch);
        for (const char* entry : {"keras_h5", "keras_zip", "keras_config", "safetensors"})
            fs::create_directories(seeds / entry);
        std::vector<fs::path> files(fs::directory_iterator(fixtures), {});
        std::sort(files.begin(), files.end());
        for (const fs::path& file : files) {
            const std::string name = file.filename().string();
            if (file.extension() == ".h5") {
                shrinkH5(file, seeds / "keras_h5" / name);
                const std::string config = readStringAttribute(file, "model_config");
                if (!config.empty())
                    writeFile(seeds / "keras_config" / (file.stem().string() + ".json"),
                              config.data(), config.size());
            } else if (file.extension() == ".keras") {
                const std::string config = shrinkKeras(file, seeds / "keras_zip" / name, scratch);
                writeFile(seeds / "keras_config" / (file.stem().string() + ".config.json"),
                          config.data(), config.size());
            }
        }
        writeSafetensorsSeeds(seeds / "safetensors");
        fs::remove_all(scratch);
    } catch (const std::exception& e) {
        std::cerr << "make_seeds: " << e.what() << "\n";
        fs::remove_all(scratch);
        return 1;
    }
    return 0;
}
