// The one CSV writer (RFC 4180 fields): fields are joined by commas, and a field holding a
// comma, a double quote, CR or LF is put in double quotes with its quotes doubled. Rows end
// in LF, as the tools that read these tables expect. Numbers are formatted here, so every
// table writes NaN, infinity and precision the same way. Used by `cwb` and the window.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cwb {

// `text` as one CSV field, quoted when it has to be.
std::string csvField(std::string_view text);

class CsvWriter {
public:
    // Fields of the current row, in order.
    CsvWriter& text(std::string_view field);
    // %.*g with `significantDigits` (1..17); NaN is an empty field (not measured),
    // infinity "inf" or "-inf".
    CsvWriter& number(double value, int significantDigits = 8);
    // %.*f with `decimals` (0..40).
    CsvWriter& fixed(double value, int decimals);
    CsvWriter& integer(long long value);
    // Ends the current row.
    CsvWriter& endRow();
    // A whole row of text fields (a header).
    CsvWriter& row(const std::vector<std::string>& fields);

    // The table so far.
    const std::string& str() const { return m_text; }
    // Writes the table to `path` atomically (core/util/atomic_file.h); throws cwb::Error.
    void save(const std::string& path, const std::string& protectedSource = {}) const;

private:
    void separate();

    std::string m_text;
    bool m_rowStarted = false;
};

}  // namespace cwb
