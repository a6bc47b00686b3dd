// Keras 3 .keras reader (see keras_zip.h).
#include "core/io/keras_zip.h"

#include <zip.h>

#include <algorithm>
#include <map>

#include "core/error.h"
#include "core/io/harvest.h"
#include "core/io/hdf5_file.h"
#include "core/io/hdf5_lock.h"
#include "core/io/keras_config.h"
#include "core/io/keras_weights.h"
#include "core/util/json_guard.h"
#include "core/util/memory.h"

namespace cwb {
namespace {

constexpr std::uint64_t kMaxJsonEntry = std::uint64_t(64) << 20;
// A zip entry may claim any size; anything above this is refused as a likely zip bomb.
constexpr std::uint64_t kMaxWeightsEntry = std::uint64_t(2) << 30;
constexpr int kMaxConfigDepth = 256;

std::string mebibytes(std::uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// A read-only zip archive; entries come out whole, checked against their declared size and CRC.
class ZipArchive {
public:
    explicit ZipArchive(const std::string& path) : m_path(path) {
        int code = 0;
        m_zip = zip_open(path.c_str(), ZIP_RDONLY, &code);
        if (!m_zip) {
            zip_error_t error;
            zip_error_init_with_code(&error, code);
            const std::string message = zip_error_strerror(&error);
            zip_error_fini(&error);
            throw Error(path + ": cannot open as a zip archive (" + message +
                        "); the file is truncated or corrupt");
        }
    }
    ~ZipArchive() { zip_discard(m_zip); }
    ZipArchive(const ZipArchive&) = delete;
    ZipArchive& operator=(const ZipArchive&) = delete;

    bool has(const std::string& name) const { return zip_name_locate(m_zip, name.c_str(), 0) >= 0; }

    std::vector<char> read(const std::string& name, std::uint64_t limit) const {
        const std::string where = m_path + ": " + name;
        zip_stat_t stat;
        zip_stat_init(&stat);
        if (zip_stat(m_zip, name.c_str(), 0, &stat) != 0)
            throw Error(m_path + ": the archive has no " + name +
                        "; it is not a Keras .keras model");
        if (!(stat.valid & ZIP_STAT_SIZE))
            throw Error(where + ": the archive does not record its size; the file is corrupt");
        if (stat.size > limit)
            throw Error(where + " declares " + mebibytes(stat.size) +
                        " uncompressed, more than the " + mebibytes(limit) +
                        " allowed; refusing it (corrupt file or zip bomb)");
        ensureFitsInMemory(stat.size, where);
        zip_file_t* file = zip_fopen(m_zip, name.c_str(), 0);
        if (!file) throw Error(where + ": cannot open (" + std::string(zip_strerror(m_zip)) + ")");
        std::vector<char> data(static_cast<std::size_t>(stat.size));
        std::uint64_t got = 0;
        std::string problem;
        while (got < stat.size) {
            const zip_int64_t n = zip_fread(file, data.data() + got, stat.size - got);
            if (n < 0) {
                problem = zip_file_strerror(file);
                break;
            }
            if (n == 0) {
                problem = "ends after " + std::to_string(got) + " of " + std::to_string(stat.size) +
                          " bytes";
                break;
            }
            got += static_cast<std::uint64_t>(n);
        }
        if (problem.empty()) {
            // One more read must hit the end: it catches entries longer than declared and
            // makes libzip verify the CRC.
            char extra;
            const zip_int64_t n = zip_fread(file, &extra, 1);
            if (n < 0)
                problem = zip_file_strerror(file);
            else if (n > 0)
                problem =
                    "holds more data than its declared " + std::to_string(stat.size) + " bytes";
        }
        zip_fclose(file);
        if (!problem.empty()) throw Error(where + ": " + problem + "; the file is corrupt");
        return data;
    }

private:
    std::string m_path;
    zip_t* m_zip = nullptr;
};

std::string kerasVersion(const ZipArchive& zip, const std::string& path) {
    if (!zip.has("metadata.json")) return {};
    const auto bytes = zip.read("metadata.json", kMaxJsonEntry);
    const auto metadata =
        parseJsonGuarded(std::string_view(bytes.data(), bytes.size()), path + ": metadata.json");
    const auto it = metadata.is_object() ? metadata.find("keras_version") : metadata.end();
    return it != metadata.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Reads the weights into arch.layers. Runs in a child process, without the HDF5 lock (its
// caller holds it).
void readWeights(KerasArchitecture& arch, std::vector<char>& image, const std::string& path) {
    const std::string where = path + ": model.weights.h5";
    h5::FileImage fileImage{image.data(), image.size()};
    h5::Handle file = h5::openFileImage(fileImage, where);
    h5::Handle layers = h5::tryOpenGroup(file.get(), "layers");
    if (!layers.valid()) throw Error(where + " has no 'layers' group; the file is corrupt");
    // Keras keys each layer's weights by its snake-cased class name plus a per-class counter.
    std::map<std::string, int> used;
    for (Layer& layer : arch.layers) {
        std::string key = kerasSnakeCase(layer.className);
        const int seen = used.count(key) ? ++used[key] : (used[key] = 0);
        if (seen > 0) key.append("_").append(std::to_string(seen));
        const auto roles = kerasWeightRoles(layer);
        if (roles.empty()) continue;
        const std::string layerPlace = layerWhere(path, layer);
        const std::string groupPath = key + "/vars";
        const std::string varsPath = "layers/" + groupPath;
        h5::Handle vars = h5::tryOpenGroup(layers.get(), groupPath);
        if (!vars.valid())
            throw Error(layerPlace + ": model.weights.h5 has no " + varsPath +
                        "; the file is incomplete");
        if (h5::hasAttribute(vars.get(), "name")) {
            const std::string owner = h5::readString(vars.get(), "name", layerPlace);
            if (owner != layer.name)
                throw Error(layerPlace + ": " + varsPath + " belongs to layer '" + owner +
                            "'; the weights do not match the config");
        }
        const auto names = h5::listDatasets(vars.get(), layerPlace);
        bool numbered = names.size() == roles.size();
        for (std::size_t i = 0; numbered && i < names.size(); ++i)
            numbered = names[i] == std::to_string(i);
        if (!numbered)
            throw Error(layerPlace + ": " + varsPath + " holds " + std::to_string(names.size()) +
                        " variables, expected " + std::to_string(roles.size()) +
                        "; the weights do not match the config");
        for (std::size_t i = 0; i < roles.size(); ++i)
            assignKerasWeight(layer, roles[i],
                              h5::readDataset(vars.get(), names[i], layerPlace, true), path);
    }
}

}  // namespace

Model loadKerasZip(const std::string& path) {
    const ZipArchive zip(path);
    const auto configBytes = zip.read("config.json", kMaxJsonEntry);
    const auto config = parseJsonGuarded(std::string_view(configBytes.data(), configBytes.size()),
                                         path + ": config.json", kMaxConfigDepth);
    KerasArchitecture arch = parseKerasModelConfig(config, path);
    const std::string version = kerasVersion(zip, path);
    if (!zip.has("model.weights.h5"))
        throw Error(path +
                    ": the archive has no model.weights.h5 (only HDF5 weights are supported); "
                    "re-save with Keras's default format");
    std::vector<char> image = zip.read("model.weights.h5", kMaxWeightsEntry);
    Harvest weights;
    {
        const auto lock = lockHdf5();
        weights = harvestInChildProcess(
            [&] {
                KerasArchitecture filled = arch;
                readWeights(filled, image, path);
                Harvest harvest;
                harvestKerasWeights(filled, harvest);
                return harvest;
            },
            path + ": model.weights.h5", h5::hdf5ReadTimeout(image.size()));
    }
    assignHarvestedWeights(arch, weights, path);
    return finishKerasModel(
        std::move(arch), path,
        "Keras " + (version.empty() ? std::string("3") : version) + " model (.keras)");
}

}  // namespace cwb
