// One libFuzzer target; CMake compiles this file once per entry with CWB_FUZZ_ENTRY set
// to the entry's name (fuzz_idx, fuzz_safetensors, ...).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "fuzz/entries.h"

namespace {

cwb::fuzz::EntryFunction g_entry = nullptr;

// The HDF5 readers parse in a probe child first (core/util/child_probe.h) and turn its
// crash or hang into a cwb::Error. That is right for users but would hide the crash from
// the fuzzer, so such inputs are kept for triage in $CWB_FUZZ_PROBE_DIR (fuzz/run.sh sets it).
void keepProbeFailure(const std::uint8_t* data, std::size_t size, const std::string& message) {
    const char* dir = std::getenv("CWB_FUZZ_PROBE_DIR");
    if (!dir || (message.find("crashed the format library") == std::string::npos &&
                 message.find("did not finish within") == std::string::npos))
        return;
    const std::size_t hash = std::hash<std::string_view>{}(
        std::string_view(reinterpret_cast<const char*>(data), size));
    std::ofstream(std::string(dir) + "/probe-" + std::to_string(hash), std::ios::binary)
        .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    cwb::fuzz::prepare();
    g_entry = cwb::fuzz::findEntry(CWB_FUZZ_ENTRY);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        g_entry(data, size);
    } catch (const cwb::Error& e) {
        // A clean rejection; any other exception escapes and libFuzzer reports it.
        keepProbeFailure(data, size, e.what());
    }
    return 0;
}
