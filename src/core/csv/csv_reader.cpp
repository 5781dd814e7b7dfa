#include "core/csv/csv_reader.hpp"

#include <csv.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <system_error>

#include "core/text/utf8_validation.hpp"

namespace pg_ingest {
namespace {

constexpr size_t kChunkBytes = 256 << 10;
// libcsv grows its field buffer linearly by this step; its default (128 bytes) would mean
// thousands of reallocations for a long field.
constexpr size_t kParserBlockBytes = 64 << 10;

// Values of csv_parser::pstate, defined in libcsv.c but not exported by csv.h.
constexpr int kFieldBegun = 2;
constexpr int kFieldMightHaveEnded = 3;

// libcsv does not report whether a field was quoted, which is what tells a quoted "\N" from a
// NULL \N. It calls the space function with the first byte of every field, then only with bytes
// of unquoted fields other than the quote, and in a quoted field only with bytes after a quote
// that is not the closing one. So when a field whose content has no quote character is submitted,
// the last byte passed was the quote iff the field was quoted. null_string has no quote (checked
// in the constructor), so this decides exactly whether a field equal to it is NULL. Each reader
// saves and restores the value around libcsv calls, so interleaved readers do not mix it up.
// initial-exec because the default TLS model of a shared library costs a call per input byte.
thread_local unsigned char last_space_probe __attribute__((tls_model("initial-exec")));

int probe_space(unsigned char c) {
    last_space_probe = c;
    return 0;
}

// COPY keeps leading and trailing spaces, which libcsv would trim by default.
int never_space(unsigned char) {
    return 0;
}

void check_options(const CsvOptions &options) {
    const auto is_line_break = [](char c) { return c == '\n' || c == '\r'; };
    if (options.delimiter == options.quote) {
        throw std::invalid_argument("CSV delimiter and quote must differ");
    }
    if (is_line_break(options.delimiter) || is_line_break(options.quote)) {
        throw std::invalid_argument("CSV delimiter and quote cannot be a line break");
    }
    for (char c : options.null_string) {
        if (c == options.delimiter || c == options.quote || is_line_break(c)) {
            throw std::invalid_argument(
                "CSV null string cannot contain the delimiter, the quote or a line break");
        }
    }
}

}  // namespace

size_t FdByteSource::read(char *buf, size_t size) {
    if (size > remaining_) size = static_cast<size_t>(remaining_);
    if (size == 0) return 0;
    for (;;) {
        const ssize_t got = ::read(fd_, buf, size);
        if (got >= 0) {
            remaining_ -= static_cast<uint64_t>(got);
            return static_cast<size_t>(got);
        }
        if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "read");
    }
}

size_t StringByteSource::read(char *buf, size_t size) {
    const size_t count = std::min(size, data_.size() - position_);
    std::memcpy(buf, data_.data() + position_, count);
    position_ += count;
    return count;
}

void CsvBatch::clear() {
    rows.clear();
    fields.clear();
    arena.clear();
}

CsvReader::CsvReader(ByteSource &source, CsvOptions options, uint64_t start_offset,
                     uint64_t start_line)
    : source_(source),
      options_(std::move(options)),
      parser_(std::make_unique<csv_parser>()),
      chunk_(new char[kChunkBytes]),  // not zeroed: a reader is made per file
      offset_(start_offset),
      line_(start_line),
      line_end_(options_.line_end),
      bom_checked_(start_offset != 0) {
    check_options(options_);
    init_parser();
}

CsvReader::~CsvReader() {
    csv_free(parser_.get());
}

size_t CsvReader::parser_buffer_bytes() const {
    return csv_get_buffer_size(parser_.get());
}

void CsvReader::init_parser() {
    csv_init(parser_.get(), CSV_EMPTY_IS_NULL);
    csv_set_delim(parser_.get(), static_cast<unsigned char>(options_.delimiter));
    csv_set_quote(parser_.get(), static_cast<unsigned char>(options_.quote));
    csv_set_space_func(parser_.get(), options_.null_string.empty() ? never_space : probe_space);
    csv_set_blk_size(parser_.get(), kParserBlockBytes);
    last_space_probe_ = 0;
}

void CsvReader::reset_parser() {
    csv_free(parser_.get());
    init_parser();
}

bool CsvReader::parser_in_quoted_field() const {
    return parser_->pstate == kFieldBegun && parser_->quoted;
}

size_t CsvReader::field_in_progress_bytes() const {
    // After a quote in a quoted field, libcsv has stored that quote before knowing whether it
    // closes the field.
    return parser_->entry_pos - (parser_->pstate == kFieldMightHaveEnded ? 1 : 0);
}

void CsvReader::feed(const char *data, size_t size) {
    last_space_probe = last_space_probe_;
    const size_t parsed = csv_parse(parser_.get(), data, size, on_field, on_record_end, this);
    last_space_probe_ = last_space_probe;
    if (callback_exception_) std::rethrow_exception(callback_exception_);
    // libcsv stops early only when its field buffer cannot grow.
    if (parsed != size) throw std::bad_alloc();
}

void CsvReader::finish_parser() {
    last_space_probe = last_space_probe_;
    csv_fini(parser_.get(), on_field, on_record_end, this);
    if (callback_exception_) std::rethrow_exception(callback_exception_);
}

// Exceptions must not unwind through libcsv's C frames: they are kept and rethrown by feed().
void CsvReader::on_field(void *data, size_t size, void *self) {
    auto *reader = static_cast<CsvReader *>(self);
    try {
        reader->add_field(static_cast<const char *>(data), size);
    } catch (...) {
        reader->callback_exception_ = std::current_exception();
    }
}

void CsvReader::on_record_end(int terminator, void *self) {
    // Record ends are taken from line ends, where the reader passes libcsv the byte of the file's
    // line end; any other record end libcsv reports is a line break outside quotes that is not
    // the file's, which COPY rejects (-1 is the end of input).
    auto *reader = static_cast<CsvReader *>(self);
    if (terminator != '\r' && terminator != '\n') return;
    if (terminator == line_end_byte(reader->line_end_)) return;
    try {
        if (reader->record_.error.empty()) {
            reader->fail_record(inconsistent_line_end_error(static_cast<char>(terminator)));
        }
    } catch (...) {
        reader->callback_exception_ = std::current_exception();
    }
}

void CsvReader::add_field(const char *data, size_t size) {
    const size_t column = ++record_columns_;
    if (!record_.error.empty()) return;
    if (column > options_.max_row_fields || size > options_.max_field_bytes) {
        fail_record(describe_limit_exceeded(column));
        return;
    }
    const std::string &null_string = options_.null_string;
    bool is_null;
    if (data == nullptr) {  // an empty unquoted field (CSV_EMPTY_IS_NULL)
        is_null = null_string.empty();
    } else {
        is_null = !null_string.empty() && size == null_string.size() &&
                  std::memcmp(data, null_string.data(), size) == 0 &&
                  last_space_probe != static_cast<unsigned char>(options_.quote);
    }
    if (!is_null && options_.validate_utf8) {
        const auto *bytes = reinterpret_cast<const unsigned char *>(data);
        size_t bad_length = 0;
        const size_t bad_position = find_invalid_utf8(bytes, size, bad_length);
        if (bad_position != size) {
            fail_record(describe_invalid_utf8(bytes + bad_position, bad_length) + " at column " +
                        std::to_string(column));
            return;
        }
    }
    if (is_null) {
        batch_->fields.push_back(CsvField{nullptr, 0, true});
        return;
    }
    record_bytes_ += size;
    if (record_bytes_ > options_.max_row_bytes) {
        fail_record("row exceeds " + std::to_string(options_.max_row_bytes) + " bytes");
        return;
    }
    if (size > 0) batch_->arena.append(data, size);
    // The pointer is set once the batch is complete, since the arena may still reallocate.
    batch_->fields.push_back(CsvField{nullptr, size, false});
}

// For a field at `column` that is too long or one too many: the same message whether the field
// was complete in one piece of input or is abandoned while still being read.
std::string CsvReader::describe_limit_exceeded(size_t column) const {
    if (column > options_.max_row_fields) {
        return "row has more than " + std::to_string(options_.max_row_fields) + " fields";
    }
    return "field exceeds " + std::to_string(options_.max_field_bytes) + " bytes at column " +
           std::to_string(column);
}

void CsvReader::fail_record(std::string error) {
    record_.error = std::move(error);
    batch_->fields.resize(record_.first_field);
    batch_->arena.resize(record_arena_start_);
}

void CsvReader::open_record() {
    record_open_ = true;
    record_.line_number = line_;
    record_.start_offset = offset_;
    record_.first_field = static_cast<uint32_t>(batch_->fields.size());
    record_.error.clear();
    record_arena_start_ = batch_->arena.size();
    record_columns_ = 0;
    record_bytes_ = 0;
}

void CsvReader::close_record() {
    record_.end_offset = offset_;
    record_.end_line = line_;
    record_.last_line = at_line_start_ ? line_ - 1 : line_;
    record_.field_count = static_cast<uint32_t>(batch_->fields.size() - record_.first_field);
    batch_->rows.push_back(std::move(record_));
    record_.error.clear();
    record_open_ = false;
}

void CsvReader::start_skipping() {
    if (record_.error.empty()) fail_record(describe_limit_exceeded(record_columns_ + 1));
    switch (parser_->pstate) {
        case kFieldBegun:
            skip_state_ = parser_->quoted ? SkipState::kQuoted : SkipState::kUnquoted;
            break;
        case kFieldMightHaveEnded:
            skip_state_ = SkipState::kQuoteInQuoted;
            break;
        default:
            skip_state_ = SkipState::kFieldStart;
    }
    skipping_ = true;
    // Releases the long field; a fresh parser takes over at the next record.
    reset_parser();
}

// Follows libcsv's quoting rules through `data` without keeping anything. A line break outside
// quotes in `data` is not the file's (the caller ends lines): libcsv would start a new row there.
void CsvReader::skip_through(const char *data, size_t size) {
    const char quote = options_.quote;
    const char delimiter = options_.delimiter;
    for (size_t i = 0; i < size; ++i) {
        if (skip_state_ == SkipState::kQuoted) {
            const void *found = std::memchr(data + i, quote, size - i);
            if (found == nullptr) return;
            i = static_cast<const char *>(found) - data;
            skip_state_ = SkipState::kQuoteInQuoted;
            continue;
        }
        const char c = data[i];
        if (c == delimiter || c == '\r' || c == '\n') {
            skip_state_ = SkipState::kFieldStart;
        } else if (skip_state_ == SkipState::kFieldStart) {
            skip_state_ = c == quote ? SkipState::kQuoted : SkipState::kUnquoted;
            if (c == quote) quote_line_ = line_;
        } else if (skip_state_ == SkipState::kQuoteInQuoted) {
            // A doubled quote, or libcsv's leniency for text after a closing quote.
            skip_state_ = SkipState::kQuoted;
        }
    }
}

namespace {

const char *find_line_break(const char *data, size_t size) {
    for (size_t i = 0; i < size; ++i)
        if (data[i] == '\n' || data[i] == '\r') return data + i;
    return nullptr;
}

}  // namespace

// A line ends at the byte of the file's line end (before it is known: at the first '\n', "\r\n"
// or lone '\r'). Returns size 0 when more input is needed first: a final '\r' may be the start
// of a "\r\n" whose '\n' comes with the next read.
CsvReader::LinePiece CsvReader::find_line_piece(const char *piece, size_t size) const {
    const char *found =
        line_end_ == LineEnd::kUnknown
            ? find_line_break(piece, size)
            : static_cast<const char *>(std::memchr(piece, line_end_byte(line_end_), size));
    const bool may_pair =
        line_end_ == LineEnd::kUnknown || line_end_ == LineEnd::kCarriageReturnNewline;
    if (found == nullptr) {
        if (may_pair && !eof_ && piece[size - 1] == '\r') return {size - 1, 0};
        return {size, 0};
    }
    const size_t at = static_cast<size_t>(found - piece);
    if (*found == '\r') {  // kUnknown or kCarriageReturn
        if (line_end_ == LineEnd::kCarriageReturn) return {at + 1, 1};
        if (at + 1 == size) return eof_ ? LinePiece{size, 1} : LinePiece{at, 0};
        return piece[at + 1] == '\n' ? LinePiece{at + 2, 2} : LinePiece{at + 1, 1};
    }
    if (line_end_ == LineEnd::kCarriageReturnNewline && at > 0 && piece[at - 1] == '\r')
        return {at + 1, 2};
    return {at + 1, 1};
}

// Consumes the next physical line, or the part of it that is in the chunk. Returns how many bytes
// it consumed: 0 when it needs more input first.
size_t CsvReader::consume_piece() {
    const char *piece = chunk_.get() + chunk_pos_;
    const size_t available = chunk_end_ - chunk_pos_;
    if (!bom_checked_) {
        if (available < 3 && !eof_) return 0;
        bom_checked_ = true;
        if (available >= 3 && std::memcmp(piece, "\xEF\xBB\xBF", 3) == 0) {
            chunk_pos_ += 3;
            offset_ += 3;
            return 3;
        }
    }
    const LinePiece line = find_line_piece(piece, available);
    if (line.size == 0) return 0;
    const size_t body = line.size - line.terminator;
    if (!record_open_) {
        open_record();
        // libcsv silently drops a line break at the start of a record, which cannot be the
        // file's line end there.
        if (body > 0 && (piece[0] == '\r' || piece[0] == '\n'))
            fail_record(inconsistent_line_end_error(piece[0]));
    }
    if (body > 0) consume_body(piece, body);
    chunk_pos_ += body;
    offset_ += body;
    at_line_start_ = false;
    if (line.terminator > 0) consume_line_break(piece + body, line.terminator);
    return line.size;
}

// Bytes of a line before its line break: to libcsv, or past them while skipping a long field.
void CsvReader::consume_body(const char *body, size_t size) {
    if (skipping_) {
        skip_through(body, size);
        return;
    }
    // A quoted field stays one field across a quote that may close it.
    const auto in_quoted = [this] {
        return parser_in_quoted_field() || parser_->pstate == kFieldMightHaveEnded;
    };
    const bool was_quoted = in_quoted();
    const size_t columns = record_columns_;
    feed(body, size);
    if (in_quoted() && (!was_quoted || record_columns_ != columns)) quote_line_ = line_;
    if (field_in_progress_bytes() > options_.max_field_bytes) start_skipping();
}

bool CsvReader::in_quoted_field() const {
    return skipping_ ? skip_state_ == SkipState::kQuoted : parser_in_quoted_field();
}

// A line break inside a quoted field is data; outside, it ends the record, and must be the
// file's line end (the first one decides it).
void CsvReader::consume_line_break(const char *terminator, size_t size) {
    const bool quoted = in_quoted_field();
    if (quoted && !skipping_) feed(terminator, size);
    if (quoted && line_end_ == LineEnd::kUnknown) {
        unsettled_newlines_ += terminator[size - 1] == '\n' ? 1 : 0;
        unsettled_returns_ += terminator[0] == '\r' ? 1 : 0;
    } else {
        if (!quoted) settle_line_end(terminator, size);
        ++line_;
    }
    chunk_pos_ += size;
    offset_ += size;
    at_line_start_ = true;
    if (quoted) {
        if (!skipping_ && field_in_progress_bytes() > options_.max_field_bytes) start_skipping();
        return;
    }
    // Only a bare '\n' can be a line break other than the file's here (a stray '\r' is in the
    // body, or starts a "\r\n" in a file of "\r\n").
    if (line_end_ == LineEnd::kCarriageReturnNewline && size == 1 && record_.error.empty())
        fail_record(inconsistent_line_end_error('\n'));
    if (!skipping_) {
        const char end = line_end_byte(line_end_);
        feed(&end, 1);
    }
    skipping_ = false;
    close_record();
}

void CsvReader::settle_line_end(const char *terminator, size_t size) {
    if (line_end_ != LineEnd::kUnknown) return;
    if (size == 2) {
        line_end_ = LineEnd::kCarriageReturnNewline;
    } else {
        line_end_ = terminator[0] == '\r' ? LineEnd::kCarriageReturn : LineEnd::kNewline;
    }
    line_ += line_end_ == LineEnd::kCarriageReturn ? unsettled_returns_ : unsettled_newlines_;
}

void CsvReader::refill() {
    const size_t kept = chunk_end_ - chunk_pos_;
    std::memmove(chunk_.get(), chunk_.get() + chunk_pos_, kept);
    chunk_pos_ = 0;
    chunk_end_ = kept;
    const size_t got = source_.read(chunk_.get() + kept, kChunkBytes - kept);
    if (got == 0) eof_ = true;
    chunk_end_ += got;
}

void CsvReader::finish_at_eof() {
    // No line break outside quotes: the quoted ones count as lines.
    if (line_end_ == LineEnd::kUnknown) line_ += unsettled_newlines_;
    if (record_open_) {
        // Whatever else was wrong with the record, the open quote is why it runs to the end.
        if (in_quoted_field()) {
            fail_record("unterminated quoted field: its quote opened on line " +
                        std::to_string(quote_line_));
        }
        if (!skipping_) finish_parser();
        skipping_ = false;
        close_record();
    }
    finished_ = true;
}

void CsvReader::stash_open_record() {
    carried_fields_.assign(batch_->fields.begin() + record_.first_field, batch_->fields.end());
    carried_arena_.assign(batch_->arena, record_arena_start_);
    batch_->fields.resize(record_.first_field);
    batch_->arena.resize(record_arena_start_);
}

void CsvReader::restore_open_record() {
    record_.first_field = static_cast<uint32_t>(batch_->fields.size());
    record_arena_start_ = batch_->arena.size();
    batch_->fields.insert(batch_->fields.end(), carried_fields_.begin(), carried_fields_.end());
    batch_->arena.append(carried_arena_);
    carried_fields_.clear();
    carried_arena_.clear();
}

bool CsvReader::next_batch(CsvBatch &batch, size_t max_rows, size_t max_bytes) {
    if (max_rows == 0) throw std::invalid_argument("max_rows must be positive");
    batch.clear();
    if (finished_) return false;
    batch_ = &batch;
    if (record_open_) restore_open_record();
    // At least one byte, so that every call makes progress.
    const uint64_t budget_end = offset_ + std::max<size_t>(max_bytes, 1);
    while (batch.rows.size() < max_rows) {
        if (chunk_pos_ < chunk_end_ && consume_piece() > 0) {
            if (offset_ >= budget_end) break;
            continue;
        }
        if (eof_) {
            finish_at_eof();
            break;
        }
        if (offset_ >= budget_end) break;
        refill();
    }
    if (record_open_) stash_open_record();
    batch_ = nullptr;

    // Fields are stored in arena order, NULLs taking no bytes.
    const char *cursor = batch.arena.data();
    for (CsvField &field : batch.fields) {
        if (field.is_null) continue;
        field.data = cursor;
        cursor += field.size;
    }
    return !(finished_ && batch.rows.empty());
}

}  // namespace pg_ingest
