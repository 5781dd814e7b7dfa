// Finds the byte span of the next micro-batch of CSV rows without decoding them, and vouches for
// the span only when every row in it is plain: the right number of fields, quotes only around
// whole fields, no line break outside quotes other than the file's line end, no NUL, no field over
// the limit, a terminated last quote. For such rows COPY's CSV parser and CsvReader agree exactly,
// so a plain span can be handed to COPY as raw bytes; anything else goes through CsvReader, which
// finds and explains bad rows.
//
// The scanner reads its input itself (next_span, from a ByteSource), or is handed the bytes in
// the caller's buffer as the caller reads them (begin_span, scan_memory, end_input): COPY's own
// input buffer, so that the text of a span is read from the file once.
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
    // The file's line end, which COPY, reading a span from its first row, finds the same (a
    // span's rows all end with it). kUnknown is read as kNewline: the caller tells the scanner
    // what the file's start decided (a file without a line break is one row).
    LineEnd line_end = LineEnd::kNewline;
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

// What scan_memory made of the bytes it was handed.
struct CsvScanStep {
    // The leading bytes that belong to the span: all of them, unless the span ended among them.
    size_t bytes_in_span;
    // The span is over: it reached max_rows or max_bytes (the next span starts where it ends),
    // or a row that is not plain (span().irregular; the scanner is spent).
    bool span_ended;
};

class CsvSpanScanner {
  public:
    // Reads `source`, which is positioned at start_offset, the start of a row on line
    // start_line.
    CsvSpanScanner(ByteSource &source, CsvScanOptions options, uint64_t start_offset,
                   uint64_t start_line);
    // Is handed its input by scan_memory, from start_offset on.
    CsvSpanScanner(CsvScanOptions options, uint64_t start_offset, uint64_t start_line);

    // The next up to max_rows plain rows, stopping early at a row boundary once max_bytes were
    // scanned. rows == 0 and !irregular means end of input. After an irregular span the scanner
    // is spent: make a new one where reading resumes. Throws what the source throws.
    CsvSpan next_span(size_t max_rows, size_t max_bytes = 64 << 20);

    // The same, on bytes the caller reads: a span of up to max_rows rows and max_bytes begins
    // where the last one ended. Hand it the input that follows in order, from the span's start;
    // bytes past a span's end are not kept (the next span is handed them again).
    void begin_span(size_t max_rows, size_t max_bytes);
    CsvScanStep scan_memory(const char *data, size_t size);
    // The input ends after the bytes handed in: closes a last row without a newline, and makes
    // the span irregular when that row is not plain.
    void end_input();
    const CsvSpan &span() const { return span_; }

  private:
    enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted, kCarriageReturn };
    // The row being scanned, carried from one buffer to the next.
    struct Row {
        State state = State::kFieldStart;
        size_t fields = 0;  // delimiters seen in the row
        size_t field_bytes = 0;
        size_t row_bytes = 0;
        bool empty = true;
        uint64_t line = 0;  // runs ahead of line_ inside a row
    };
    // What one state's step over the buffer found.
    enum class Found { kMore, kRowEnd, kIrregular };
    enum class Limit { kNone, kReached, kIrregular };

    bool refill();
    bool close_row(Row &row, uint64_t end, bool newline);
    Limit scan(const unsigned char *data, size_t size, size_t *used);
    bool too_long(Row &row, size_t added) const {
        row.field_bytes += added;
        row.row_bytes += added;
        return row.field_bytes > options_.max_field_bytes || row.row_bytes > options_.max_row_bytes;
    }
    Found field_start(Row &row, const unsigned char *data, size_t &i) const;
    Found unquoted(Row &row, const unsigned char *data, size_t &i, size_t size) const;
    Found quoted(Row &row, const unsigned char *data, size_t &i, size_t size) const;
    Found quote_in_quoted(Row &row, const unsigned char *data, size_t &i) const;
    Found after_field(Row &row, const unsigned char *data, size_t &i) const;
    Found line_break(Row &row, char c, size_t &i) const;

    ByteSource *source_ = nullptr;  // nullptr: handed its input
    CsvScanOptions options_;
    LineEnd line_end_;
    // The byte that ends a line (the '\n' of "\r\n"), counted inside quotes too.
    char line_byte_;
    std::unique_ptr<char[]> chunk_;
    size_t chunk_pos_ = 0;
    size_t chunk_end_ = 0;
    bool eof_ = false;
    // The file offset of the next byte to scan, and the line of the next row.
    uint64_t offset_;
    uint64_t line_;
    CsvSpan span_ = {};
    size_t max_rows_ = 0;
    size_t max_bytes_ = 0;
    Row row_;
    // Which bytes end the fast loops over an unquoted and a quoted field.
    unsigned char unquoted_stop_[256];
    unsigned char quoted_stop_[256];
};

}  // namespace pg_ingest
