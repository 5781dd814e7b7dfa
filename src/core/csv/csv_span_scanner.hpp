// Finds the byte span of the next micro-batch of CSV rows without decoding them, and vouches for
// the span only when every row in it is plain: the right number of fields, quotes only around
// whole fields, no stray carriage return, no NUL, no field over the limit, a terminated last quote.
// For such rows COPY's CSV parser and CsvReader agree exactly, so a plain span can be handed to
// COPY as raw bytes; anything else goes through CsvReader, which finds and explains bad rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/csv/csv_reader.hpp"

namespace pg_ingest {

struct CsvScanOptions {
    char delimiter = ',';
    char quote = '"';
    size_t field_count = 1;  // fields a plain row has
    size_t max_field_bytes = 1 << 20;
    size_t max_row_bytes = 16 << 20;
};

struct CsvSpan {
    uint64_t start_offset;
    uint64_t start_line;
    // Just after the last row's terminator (or end of input); resume here on end_line.
    uint64_t end_offset;
    uint64_t end_line;
    // The last physical line the span's rows occupy (end_line - 1 unless the input ended without
    // a newline).
    uint64_t last_line;
    uint64_t rows;
    // Scanning stopped at a row that is not plain: the span is not vouched for, read it with
    // CsvReader from start_offset.
    bool irregular;
    // The input ends at end_offset: no row follows.
    bool at_end;
};

class CsvSpanScanner {
  public:
    // `source` is positioned at start_offset, the start of a row on line start_line.
    CsvSpanScanner(ByteSource &source, CsvScanOptions options, uint64_t start_offset,
                   uint64_t start_line);

    // The next up to max_rows plain rows, stopping early at a row boundary once max_bytes were
    // scanned. rows == 0 and !irregular means end of input. After an irregular span the scanner
    // is spent: make a new one where reading resumes. Throws what the source throws.
    CsvSpan next_span(size_t max_rows, size_t max_bytes = 64 << 20);

  private:
    enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted, kCarriageReturn };

    bool refill();
    uint64_t position(size_t index) const { return chunk_offset_ + index; }

    ByteSource &source_;
    CsvScanOptions options_;
    std::unique_ptr<char[]> chunk_;
    size_t chunk_pos_ = 0;
    size_t chunk_end_ = 0;
    bool eof_ = false;
    uint64_t chunk_offset_;  // file offset of chunk_[0]
    uint64_t offset_;
    uint64_t line_;
    // Which bytes end the fast loops over an unquoted and a quoted field.
    unsigned char unquoted_stop_[256];
    unsigned char quoted_stop_[256];
};

}  // namespace pg_ingest
