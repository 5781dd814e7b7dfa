// Streaming CSV reader with COPY-CSV semantics over libcsv, in bounded memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "core/csv/line_end.hpp"

struct csv_parser;

namespace pg_ingest {

// Where bytes come from; lets the reader work over a file descriptor, a string (tests), and
// later a decompressor.
class ByteSource {
  public:
    virtual ~ByteSource() = default;
    // Fills up to `size` bytes; returns 0 only at end of input. Throws std::system_error on I/O
    // error.
    virtual size_t read(char *buf, size_t size) = 0;
};

// Reads with ::read, retrying EINTR. Does not own the descriptor. With `limit`, input ends after
// that many bytes (a chunk of a file ends where the next begins).
class FdByteSource : public ByteSource {
  public:
    explicit FdByteSource(int fd, uint64_t limit = UINT64_MAX) : fd_(fd), remaining_(limit) {}
    size_t read(char *buf, size_t size) override;

  private:
    int fd_;
    uint64_t remaining_;
};

class StringByteSource : public ByteSource {
  public:
    explicit StringByteSource(std::string data) : data_(std::move(data)) {}
    size_t read(char *buf, size_t size) override;

  private:
    std::string data_;
    size_t position_ = 0;
};

struct CsvOptions {
    char delimiter = ',';
    char quote = '"';
    // An unquoted field equal to this is NULL; the default "" makes an empty unquoted field NULL
    // (COPY CSV). A quoted field is never NULL. Like COPY, it may not contain the delimiter, the
    // quote or a line break.
    std::string null_string;
    // A longer field makes its row bad; memory stays bounded by about this plus one read chunk.
    size_t max_field_bytes = 1 << 20;
    // More fields make the row bad (PostgreSQL tables have at most 1600 columns).
    size_t max_row_fields = 1600;
    // A row whose decoded fields add up to more bytes is bad.
    size_t max_row_bytes = 16 << 20;
    // Invalid UTF-8 or a NUL byte in a field makes its row bad.
    bool validate_utf8 = true;
    // The file's line terminator; kUnknown: the first line break outside quotes decides (reading
    // from the file's start). A reader resuming mid-file is told what the start decided.
    LineEnd line_end = LineEnd::kUnknown;
};

// A view into CsvBatch::arena, valid until the batch is cleared (next CsvReader::next_batch).
struct CsvField {
    const char *data;  // nullptr for NULL
    size_t size;
    bool is_null;
};

struct CsvRow {
    // Physical line (1-based, counting every terminator byte of the file's line end, '\n' or a
    // lone '\r', including ones inside quoted fields) where the record starts.
    uint64_t line_number;
    // The last physical line the record occupies: a record with a quoted line break spans
    // several, and so does a bad record that swallowed lines (an unterminated quote).
    uint64_t last_line;
    // Byte offset of the record's first byte.
    uint64_t start_offset;
    // Byte offset just after the record's terminator (or end of input). Resuming here continues
    // with the next record.
    uint64_t end_offset;
    // Line number at end_offset: pass it as start_line when resuming at end_offset.
    uint64_t end_line;
    uint32_t first_field;  // index into CsvBatch::fields
    uint32_t field_count;  // 0 for a blank line and for a bad row
    // Empty for a good row; otherwise why the row is bad (its fields are then not kept).
    std::string error;
};

struct CsvBatch {
    std::vector<CsvRow> rows;
    std::vector<CsvField> fields;
    std::string arena;  // owns the bytes of all fields of the batch

    // Keeps capacity, so steady-state reading does not allocate.
    void clear();
    const CsvField *row_fields(const CsvRow &row) const { return fields.data() + row.first_field; }
};

class CsvReader {
  public:
    // `source` is positioned at start_offset, the start of a record on line start_line (to resume
    // after a crash, seek to a committed CsvRow::end_offset and pass its end_line). At offset 0 a
    // UTF-8 byte order mark is skipped. Throws std::invalid_argument for inconsistent options.
    CsvReader(ByteSource &source, CsvOptions options, uint64_t start_offset = 0,
              uint64_t start_line = 1);
    ~CsvReader();
    CsvReader(const CsvReader &) = delete;
    CsvReader &operator=(const CsvReader &) = delete;

    // Clears `batch` and appends up to max_rows rows (max_rows > 0). Returns false only when the
    // input is exhausted and no row was produced. Returns early, possibly with no rows, after
    // consuming about max_bytes of input, so that the caller can check for interrupts even on a
    // huge field without a newline. Throws what the source throws, or std::bad_alloc; the reader
    // is unusable afterwards. Throws std::invalid_argument if max_rows is 0.
    bool next_batch(CsvBatch &batch, size_t max_rows, size_t max_bytes = 8 << 20);

    // Bytes consumed so far, as a file offset.
    uint64_t offset() const { return offset_; }
    // The file's line end: options.line_end, or what the first line break decided (kUnknown
    // until one was read outside quotes).
    LineEnd line_end() const { return line_end_; }
    // Size of libcsv's field buffer. Only the unit tests call it: the bound they check on the
    // reader's memory (a huge field costs at most max_field_bytes) shows nowhere else.
    size_t parser_buffer_bytes() const;

  private:
    // Where the reader is within a record it skips without libcsv, mirroring libcsv's states.
    enum class SkipState { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };
    // The physical line at the front of the chunk: `size` bytes, the last `terminator` of which
    // are a line break (none when the line goes on past the chunk).
    struct LinePiece {
        size_t size;
        size_t terminator;
    };

    static void on_field(void *data, size_t size, void *self);
    static void on_record_end(int terminator, void *self);

    void init_parser();
    void reset_parser();
    bool parser_in_quoted_field() const;
    size_t field_in_progress_bytes() const;
    void feed(const char *data, size_t size);
    void finish_parser();
    LinePiece find_line_piece(const char *piece, size_t size) const;
    size_t consume_piece();
    void consume_body(const char *body, size_t size);
    bool in_quoted_field() const;
    void consume_line_break(const char *terminator, size_t size);
    void settle_line_end(const char *terminator, size_t size);
    void refill();
    void finish_at_eof();
    void open_record();
    void close_record();
    std::string describe_limit_exceeded(size_t column) const;
    void fail_record(std::string error);
    void add_field(const char *data, size_t size);
    void start_skipping();
    void skip_through(const char *data, size_t size);
    void stash_open_record();
    void restore_open_record();

    ByteSource &source_;
    CsvOptions options_;
    std::unique_ptr<csv_parser> parser_;
    std::unique_ptr<char[]> chunk_;
    size_t chunk_pos_ = 0;
    size_t chunk_end_ = 0;
    uint64_t offset_;
    uint64_t line_;
    LineEnd line_end_;
    // Line breaks inside quotes before the line end is known, counted once it is.
    uint64_t unsettled_newlines_ = 0;
    uint64_t unsettled_returns_ = 0;
    // The last byte consumed ended a line (so a record ending here ended on line line_ - 1).
    bool at_line_start_ = true;
    // The line where the quoted field being read opened its quote.
    uint64_t quote_line_ = 0;
    bool bom_checked_;
    bool eof_ = false;
    bool finished_ = false;
    // What libcsv last passed to the space function, which tells whether a field was quoted
    // (see probe_space in csv_reader.cpp); kept per reader between libcsv calls.
    unsigned char last_space_probe_ = 0;
    std::exception_ptr callback_exception_;

    CsvBatch *batch_ = nullptr;  // the batch being filled, during next_batch
    bool record_open_ = false;
    bool skipping_ = false;
    SkipState skip_state_ = SkipState::kFieldStart;
    CsvRow record_;
    size_t record_arena_start_ = 0;
    size_t record_columns_ = 0;  // fields seen, including ones not kept
    size_t record_bytes_ = 0;    // decoded bytes of the fields kept
    // Fields of a record still open when next_batch returns early, moved to the next batch.
    std::vector<CsvField> carried_fields_;
    std::string carried_arena_;
};

}  // namespace pg_ingest
