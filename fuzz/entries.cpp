// Fuzz entry functions (see entries.h).
#include "fuzz/entries.h"

#include <stdexcept>

#include "core/io/idx_dataset.h"

namespace cwb::fuzz {
namespace {

void runIdx(const std::uint8_t* data, std::size_t size) {
    parseIdx(std::vector<std::uint8_t>(data, data + size), "fuzz.idx");
}

}  // namespace

const std::vector<Entry>& entries() {
    static const std::vector<Entry> all{
        {"idx", runIdx},
    };
    return all;
}

EntryFunction findEntry(const std::string& name) {
    for (const Entry& entry : entries())
        if (entry.name == name) return entry.run;
    throw std::invalid_argument("unknown fuzz entry " + name);
}

void prepare() {
}

}  // namespace cwb::fuzz
