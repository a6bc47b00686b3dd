// One libFuzzer target; CMake compiles this file once per entry with CWB_FUZZ_ENTRY set
// to the entry's name (fuzz_idx, fuzz_safetensors, ...).
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "fuzz/entries.h"

namespace {

cwb::fuzz::EntryFunction g_entry = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    cwb::fuzz::prepare();
    g_entry = cwb::fuzz::findEntry(CWB_FUZZ_ENTRY);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        g_entry(data, size);
    } catch (const cwb::Error&) {
        // A clean rejection; any other exception escapes and libFuzzer reports it.
    }
    return 0;
}
