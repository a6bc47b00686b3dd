// The functions the fuzzers drive, one per reader. They live outside the libFuzzer targets
// so that the normal build can replay saved crash inputs through the very same code
// (tests/core/fuzz_regressions_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cwb::fuzz {

// Feeds `size` bytes to one reader. Returns normally or throws cwb::Error; anything else
// (another exception, a crash, a sanitizer report) is a bug.
using EntryFunction = void (*)(const std::uint8_t* data, std::size_t size);

struct Entry {
    std::string name;  // also the folder name under fuzz/regressions and fuzz/seeds
    EntryFunction run;
};

const std::vector<Entry>& entries();
// The entry called `name`; throws std::invalid_argument for an unknown one.
EntryFunction findEntry(const std::string& name);

// Caps the readers' memory budget far below the fuzzers' malloc limit, and silences
// third-party error printing. Called once before the first input.
void prepare();

}  // namespace cwb::fuzz
