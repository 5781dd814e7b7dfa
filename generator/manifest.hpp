// The sidecar "<data file>.manifest.json" that says which lines of a data file are bad and why,
// so tests can check an ingester line by line.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bad_rows.hpp"

namespace eventgen {

struct FileManifest {
    FileFormat format = FileFormat::kCsv;  // CSV has a header line, JSON Lines none
    uint64_t data_lines = 0;               // rows after the header, good or bad
    // Per BadRowKind, 1-based physical line numbers (a CSV header is line 1), ascending; only
    // the kinds of `format` (kinds_of) are listed.
    std::array<std::vector<uint64_t>, kBadRowKindCount> bad_lines;
    std::optional<uint64_t> seed;
    double bad_row_fraction = 0;

    uint64_t bad_line_count() const;
};

// Pretty-printed JSON naming the data file (its final name, without directory).
std::string manifest_json(const FileManifest &manifest, const std::string &file_name);

}  // namespace eventgen
