#include "core/csv/csv_span_scanner.hpp"

#include <cstring>

namespace pg_ingest {

namespace {

constexpr size_t kChunkBytes = 256 * 1024;
// The first byte of a byte order mark. COPY would read a mark as data and CsvReader skips it, so
// a file that starts with this byte is left to CsvReader (which also reads any other character
// it starts).
constexpr unsigned char kBomLead = 0xEF;

}  // namespace

CsvSpanScanner::CsvSpanScanner(ByteSource &source, CsvScanOptions options, uint64_t start_offset,
                               uint64_t start_line)
    : CsvSpanScanner(options, start_offset, start_line) {
    source_ = &source;
    chunk_.reset(new char[kChunkBytes]);  // not zeroed: a scanner is made per span or file
}

CsvSpanScanner::CsvSpanScanner(CsvScanOptions options, uint64_t start_offset, uint64_t start_line)
    : options_(options),
      line_end_(options.line_end == LineEnd::kUnknown ? LineEnd::kNewline : options.line_end),
      line_byte_(line_end_byte(line_end_)),
      offset_(start_offset),
      line_(start_line) {
    row_.line = start_line;
    std::memset(unquoted_stop_, 0, sizeof unquoted_stop_);
    std::memset(quoted_stop_, 0, sizeof quoted_stop_);
    const auto delimiter = static_cast<unsigned char>(options.delimiter);
    const auto quote = static_cast<unsigned char>(options.quote);
    for (unsigned char c : {delimiter, quote, static_cast<unsigned char>('\n'),
                            static_cast<unsigned char>('\r'), static_cast<unsigned char>('\0')})
        unquoted_stop_[c] = 1;
    for (unsigned char c :
         {quote, static_cast<unsigned char>(line_byte_), static_cast<unsigned char>('\0')})
        quoted_stop_[c] = 1;
}

// Called once the chunk is scanned to its end; false at end of input.
bool CsvSpanScanner::refill() {
    if (eof_) return false;
    chunk_pos_ = 0;
    chunk_end_ = source_->read(chunk_.get(), kChunkBytes);
    eof_ = chunk_end_ == 0;
    return !eof_;
}

CsvSpan CsvSpanScanner::next_span(size_t max_rows, size_t max_bytes) {
    begin_span(max_rows, max_bytes);
    for (;;) {
        if (chunk_pos_ == chunk_end_ && !refill()) {
            end_input();
            return span_;
        }
        CsvScanStep step = scan_memory(chunk_.get() + chunk_pos_, chunk_end_ - chunk_pos_);
        chunk_pos_ += step.bytes_in_span;
        if (step.span_ended) return span_;
    }
}

void CsvSpanScanner::begin_span(size_t max_rows, size_t max_bytes) {
    span_ = CsvSpan{offset_, line_, offset_, line_, line_ - 1, 0, false, false};
    max_rows_ = max_rows;
    max_bytes_ = max_bytes;
}

CsvScanStep CsvSpanScanner::scan_memory(const char *data, size_t size) {
    size_t used = 0;
    Limit limit = scan(reinterpret_cast<const unsigned char *>(data), size, &used);
    return {used, limit != Limit::kNone};
}

void CsvSpanScanner::end_input() {
    if (span_.irregular) return;
    const State state = row_.state;
    if (state == State::kQuoted || state == State::kCarriageReturn ||
        (!(state == State::kFieldStart && row_.empty) && !close_row(row_, offset_, false))) {
        span_.irregular = true;
        return;
    }
    span_.at_end = true;
}

// Closes the row whose terminator ends at `end`; false if the row is not plain.
bool CsvSpanScanner::close_row(Row &row, uint64_t end, bool newline) {
    if (row.empty || row.fields + 1 != options_.field_count) return false;
    span_.rows++;
    span_.end_offset = end;
    span_.last_line = newline ? row.line - 1 : row.line;
    span_.end_line = line_ = row.line;
    row = Row{};
    row.line = line_;
    return true;
}

// The row is scanned in a local copy, which the compiler keeps in registers once the state
// steps below are inlined: this is the COPY path's hot loop, run on every byte of every batch.
CsvSpanScanner::Limit CsvSpanScanner::scan(const unsigned char *data, size_t size, size_t *used) {
    const uint64_t base = offset_;
    Row row = row_;
    size_t i = 0;
    auto stop = [&](Limit limit) {
        row_ = row;
        *used = limit == Limit::kIrregular ? 0 : i;
        offset_ = base + i;
        if (limit == Limit::kIrregular) span_.irregular = true;
        return limit;
    };
    if (base == 0 && size > 0 && data[0] == kBomLead) return stop(Limit::kIrregular);
    while (i < size) {
        Found found = Found::kMore;
        switch (row.state) {
            case State::kFieldStart:
                found = field_start(row, data, i);
                break;
            case State::kUnquoted:
                found = unquoted(row, data, i, size);
                break;
            case State::kQuoted:
                found = quoted(row, data, i, size);
                break;
            case State::kQuoteInQuoted:
                found = quote_in_quoted(row, data, i);
                break;
            case State::kCarriageReturn:
                found = data[i] == '\n' ? Found::kRowEnd : Found::kIrregular;
                break;
        }
        if (found == Found::kIrregular) return stop(Limit::kIrregular);
        if (found == Found::kMore) continue;
        // data[i] is the row's line end (its last byte).
        i++;
        row.line++;
        if (!close_row(row, base + i, true)) return stop(Limit::kIrregular);
        if (span_.rows == max_rows_ || span_.end_offset - span_.start_offset >= max_bytes_)
            return stop(Limit::kReached);
    }
    return stop(Limit::kNone);
}

inline CsvSpanScanner::Found CsvSpanScanner::field_start(Row &row, const unsigned char *data,
                                                         size_t &i) const {
    const char c = static_cast<char>(data[i]);
    if (c == '\n' || c == '\r') return line_break(row, c, i);
    if (c == '\0') return Found::kIrregular;
    if (c == options_.quote) {
        row.empty = false;
        row.state = State::kQuoted;
    } else if (c == options_.delimiter) {
        row.empty = false;
        row.fields++;
        row.field_bytes = 0;
    } else {
        row.empty = false;
        row.state = State::kUnquoted;
        return Found::kMore;  // the byte is the field's first
    }
    i++;
    return Found::kMore;
}

inline CsvSpanScanner::Found CsvSpanScanner::unquoted(Row &row, const unsigned char *data,
                                                      size_t &i, size_t size) const {
    const size_t start = i;
    while (i < size && !unquoted_stop_[data[i]]) i++;
    if (too_long(row, i - start)) return Found::kIrregular;
    if (i == size) return Found::kMore;
    return after_field(row, data, i);  // a quote inside an unquoted field is irregular
}

inline CsvSpanScanner::Found CsvSpanScanner::quoted(Row &row, const unsigned char *data, size_t &i,
                                                    size_t size) const {
    const size_t start = i;
    while (i < size && !quoted_stop_[data[i]]) i++;
    if (too_long(row, i - start)) return Found::kIrregular;
    if (i == size) return Found::kMore;
    const char c = static_cast<char>(data[i]);
    if (c == options_.quote) {
        row.state = State::kQuoteInQuoted;
    } else if (c == line_byte_) {
        row.line++;
        if (too_long(row, 1)) return Found::kIrregular;
    } else {
        return Found::kIrregular;  // a NUL
    }
    i++;
    return Found::kMore;
}

inline CsvSpanScanner::Found CsvSpanScanner::quote_in_quoted(Row &row, const unsigned char *data,
                                                             size_t &i) const {
    if (static_cast<char>(data[i]) != options_.quote)
        return after_field(row, data, i);  // text after a closing quote is irregular
    // A doubled quote: one quote of the field's text.
    if (too_long(row, 1)) return Found::kIrregular;
    row.state = State::kQuoted;
    i++;
    return Found::kMore;
}

// The byte after a field's text: a delimiter, or the end of the row; anything else is irregular.
inline CsvSpanScanner::Found CsvSpanScanner::after_field(Row &row, const unsigned char *data,
                                                         size_t &i) const {
    const char c = static_cast<char>(data[i]);
    if (c == '\n' || c == '\r') return line_break(row, c, i);
    if (c != options_.delimiter) return Found::kIrregular;
    row.fields++;
    row.field_bytes = 0;
    row.state = State::kFieldStart;
    i++;
    return Found::kMore;
}

// A line break outside quotes at data[i]: the row's end when it is the file's line end; any
// other is irregular (CsvReader rejects it with COPY's words).
inline CsvSpanScanner::Found CsvSpanScanner::line_break(Row &row, char c, size_t &i) const {
    if (line_end_ != LineEnd::kCarriageReturnNewline)
        return c == line_byte_ ? Found::kRowEnd : Found::kIrregular;
    if (c != '\r') return Found::kIrregular;
    row.state = State::kCarriageReturn;
    i++;
    return Found::kMore;
}

}  // namespace pg_ingest
