// CSV output (see csv.h).
#include "core/util/csv.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/util/atomic_file.h"

namespace cwb {
namespace {

// NaN (an empty field) and the infinities, the same in every format; false when finite.
bool appendNonFinite(std::string& out, double value) {
    if (std::isnan(value)) return true;
    if (std::isinf(value)) {
        out += value > 0 ? "inf" : "-inf";
        return true;
    }
    return false;
}

}  // namespace

std::string csvField(std::string_view text) {
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
    std::string quoted = "\"";
    for (const char c : text) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    return quoted += '"';
}

void CsvWriter::separate() {
    if (m_rowStarted) m_text += ',';
    m_rowStarted = true;
}

CsvWriter& CsvWriter::text(std::string_view field) {
    separate();
    m_text += csvField(field);
    return *this;
}

CsvWriter& CsvWriter::number(double value, int significantDigits) {
    separate();
    if (appendNonFinite(m_text, value)) return *this;
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*g", std::clamp(significantDigits, 1, 17), value);
    m_text += buffer;
    return *this;
}

CsvWriter& CsvWriter::fixed(double value, int decimals) {
    separate();
    if (appendNonFinite(m_text, value)) return *this;
    char buffer[400];  // %f of -1e308 has 310 characters before the point
    std::snprintf(buffer, sizeof buffer, "%.*f", std::clamp(decimals, 0, 40), value);
    m_text += buffer;
    return *this;
}

CsvWriter& CsvWriter::integer(long long value) {
    separate();
    m_text += std::to_string(value);
    return *this;
}

CsvWriter& CsvWriter::endRow() {
    m_text += '\n';
    m_rowStarted = false;
    return *this;
}

CsvWriter& CsvWriter::row(const std::vector<std::string>& fields) {
    for (const std::string& field : fields) text(field);
    return endRow();
}

void CsvWriter::save(const std::string& path, const std::string& protectedSource) const {
    writeBytesAtomically(path, m_text, protectedSource);
}

}  // namespace cwb
