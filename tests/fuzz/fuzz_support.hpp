// What the libFuzzer harnesses share: a source that hands its bytes in cuts of varying size,
// the reader's rows as plain values to compare, and a failure that names what disagreed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/csv/csv_reader.hpp"

namespace pg_ingest::fuzz {

// A disagreement: libFuzzer reports the abort as a crash and writes the input to a file.
[[noreturn]] inline void disagree(const char *what) {
    std::fprintf(stderr, "DISAGREEMENT: %s\n", what);
    std::abort();
}

inline void expect(bool holds, const char *what) {
    if (!holds) disagree(what);
}

// Hands out `data` in reads of 1 to max_cut bytes (fewer than asked), chosen by `seed`. Each
// read's bytes come from a heap copy of exactly that size, so that AddressSanitizer sees a read
// past it.
class CutSource : public ByteSource {
  public:
    CutSource(std::string data, uint32_t seed, size_t max_cut)
        : data_(std::move(data)), random_(seed), max_cut_(max_cut == 0 ? 1 : max_cut) {}
    size_t read(char *buf, size_t size) override {
        if (position_ == data_.size() || size == 0) return 0;
        const size_t cut = std::uniform_int_distribution<size_t>(1, max_cut_)(random_);
        const size_t take = std::min({size, cut, data_.size() - position_});
        std::vector<char> piece(data_.begin() + position_, data_.begin() + position_ + take);
        std::memcpy(buf, piece.data(), take);
        position_ += take;
        return take;
    }
    size_t next_cut(size_t left) {
        return std::min(left, std::uniform_int_distribution<size_t>(1, max_cut_)(random_));
    }

  private:
    std::string data_;
    size_t position_ = 0;
    std::minstd_rand random_;
    size_t max_cut_;
};

// A row of CsvReader as a value: its fields copied out of the batch's arena.
struct ReadRow {
    uint64_t line_number, start_offset, end_offset, end_line;
    std::vector<std::string> fields;  // "\x01NULL" for NULL: no field of the input equals it
    std::string error;
    bool operator==(const ReadRow &other) const {
        return line_number == other.line_number && start_offset == other.start_offset &&
               end_offset == other.end_offset && end_line == other.end_line &&
               fields == other.fields && error == other.error;
    }
};

// Every row of `source` from start_offset on; next_batch's limits as given. With line_end, also
// the line end the reader settled on.
inline std::vector<ReadRow> read_all(ByteSource &source, const CsvOptions &options,
                                     uint64_t start_offset, uint64_t start_line, size_t max_rows,
                                     size_t max_bytes, LineEnd *line_end = nullptr) {
    CsvReader reader(source, options, start_offset, start_line);
    CsvBatch batch;
    std::vector<ReadRow> rows;
    while (reader.next_batch(batch, max_rows, max_bytes)) {
        for (const CsvRow &row : batch.rows) {
            ReadRow copy{row.line_number, row.start_offset, row.end_offset, row.end_line, {},
                         row.error};
            const CsvField *fields = batch.row_fields(row);
            for (uint32_t i = 0; i < row.field_count; i++)
                copy.fields.push_back(fields[i].is_null
                                          ? std::string("\x01NULL")
                                          : std::string(fields[i].data, fields[i].size));
            rows.push_back(std::move(copy));
        }
    }
    if (line_end) *line_end = reader.line_end();
    return rows;
}

}  // namespace pg_ingest::fuzz
