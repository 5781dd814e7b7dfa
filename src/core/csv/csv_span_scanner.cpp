#include "core/csv/csv_span_scanner.hpp"

#include <cstring>

namespace pg_ingest {

namespace {

constexpr size_t kChunkBytes = 256 * 1024;
constexpr unsigned char kBom[3] = {0xEF, 0xBB, 0xBF};

}  // namespace

CsvSpanScanner::CsvSpanScanner(ByteSource &source, CsvScanOptions options, uint64_t start_offset,
                               uint64_t start_line)
    : source_(source),
      options_(options),
      chunk_(new char[kChunkBytes]),  // not zeroed: a reader is made per file
      chunk_offset_(start_offset),
      offset_(start_offset),
      line_(start_line) {
    std::memset(unquoted_stop_, 0, sizeof unquoted_stop_);
    std::memset(quoted_stop_, 0, sizeof quoted_stop_);
    const auto delimiter = static_cast<unsigned char>(options.delimiter);
    const auto quote = static_cast<unsigned char>(options.quote);
    for (unsigned char c : {delimiter, quote, static_cast<unsigned char>('\n'),
                            static_cast<unsigned char>('\r'), static_cast<unsigned char>('\0')})
        unquoted_stop_[c] = 1;
    for (unsigned char c :
         {quote, static_cast<unsigned char>('\n'), static_cast<unsigned char>('\0')})
        quoted_stop_[c] = 1;
}

// Keeps the unconsumed tail and appends; false at end of input.
bool CsvSpanScanner::refill() {
    if (eof_) return false;
    size_t tail = chunk_end_ - chunk_pos_;
    std::memmove(chunk_.get(), chunk_.get() + chunk_pos_, tail);
    chunk_offset_ += chunk_pos_;
    chunk_pos_ = 0;
    chunk_end_ = tail;
    size_t got = source_.read(chunk_.get() + tail, kChunkBytes - tail);
    if (got == 0) {
        eof_ = true;
        return false;
    }
    chunk_end_ += got;
    return true;
}

// One long function on purpose: this state machine is the COPY path's hot loop, run on every
// byte of every plain batch, and its states share the row's counters as locals the compiler keeps
// in registers; split into functions, they would live in memory.
CsvSpan CsvSpanScanner::next_span(size_t max_rows, size_t max_bytes) {
    CsvSpan span{offset_, line_, offset_, line_, line_ - 1, 0, false, false};
    if (offset_ == 0) {
        while (chunk_end_ - chunk_pos_ < sizeof kBom && refill()) {
        }
        if (chunk_end_ - chunk_pos_ >= sizeof kBom &&
            std::memcmp(chunk_.get() + chunk_pos_, kBom, sizeof kBom) == 0) {
            span.irregular = true;
            return span;
        }
    }

    const char delimiter = options_.delimiter;
    const char quote = options_.quote;
    State state = State::kFieldStart;
    size_t fields = 0;  // delimiters seen in the row
    size_t field_bytes = 0;
    size_t row_bytes = 0;
    bool row_empty = true;
    uint64_t line = line_;  // runs ahead of line_ inside a row

    // Closes the row whose terminator ends at `end`; false if the row is not plain.
    auto end_row = [&](uint64_t end, bool newline) {
        if (row_empty || fields + 1 != options_.field_count) return false;
        span.rows++;
        span.end_offset = offset_ = end;
        span.last_line = newline ? line - 1 : line;
        span.end_line = line_ = line;
        state = State::kFieldStart;
        fields = field_bytes = row_bytes = 0;
        row_empty = true;
        return true;
    };
    auto too_long = [&](size_t added) {
        field_bytes += added;
        row_bytes += added;
        return field_bytes > options_.max_field_bytes || row_bytes > options_.max_row_bytes;
    };
    auto irregular = [&span] {
        span.irregular = true;
        return span;
    };

    for (;;) {
        if (chunk_pos_ == chunk_end_ && !refill()) break;
        const auto *data = reinterpret_cast<const unsigned char *>(chunk_.get());
        size_t i = chunk_pos_;
        const size_t n = chunk_end_;
        bool newline = false;
        while (i < n) {
            const char c = static_cast<char>(data[i]);
            switch (state) {
                case State::kFieldStart:
                    if (c == '\n') {
                        newline = true;
                    } else if (c == '\r') {
                        state = State::kCarriageReturn;
                        i++;
                    } else if (c == quote) {
                        row_empty = false;
                        state = State::kQuoted;
                        i++;
                    } else if (c == delimiter) {
                        row_empty = false;
                        fields++;
                        field_bytes = 0;
                        i++;
                    } else if (c == '\0') {
                        return irregular();
                    } else {
                        row_empty = false;
                        state = State::kUnquoted;
                    }
                    break;
                case State::kUnquoted: {
                    const size_t start = i;
                    while (i < n && !unquoted_stop_[data[i]]) i++;
                    if (too_long(i - start)) return irregular();
                    if (i == n) break;
                    const char stop = static_cast<char>(data[i]);
                    if (stop == delimiter) {
                        fields++;
                        field_bytes = 0;
                        state = State::kFieldStart;
                        i++;
                    } else if (stop == '\n') {
                        newline = true;
                    } else if (stop == '\r') {
                        state = State::kCarriageReturn;
                        i++;
                    } else {
                        return irregular();  // a quote inside an unquoted field, or a NUL
                    }
                    break;
                }
                case State::kQuoted: {
                    const size_t start = i;
                    while (i < n && !quoted_stop_[data[i]]) i++;
                    if (too_long(i - start)) return irregular();
                    if (i == n) break;
                    const char stop = static_cast<char>(data[i]);
                    if (stop == quote) {
                        state = State::kQuoteInQuoted;
                    } else if (stop == '\n') {
                        line++;
                        if (too_long(1)) return irregular();
                    } else {
                        return irregular();
                    }
                    i++;
                    break;
                }
                case State::kQuoteInQuoted:
                    if (c == quote) {
                        if (too_long(1)) return irregular();
                        state = State::kQuoted;
                        i++;
                    } else if (c == delimiter) {
                        fields++;
                        field_bytes = 0;
                        state = State::kFieldStart;
                        i++;
                    } else if (c == '\n') {
                        newline = true;
                    } else if (c == '\r') {
                        state = State::kCarriageReturn;
                        i++;
                    } else {
                        return irregular();  // text after a closing quote
                    }
                    break;
                case State::kCarriageReturn:
                    if (c != '\n') return irregular();
                    newline = true;
                    break;
            }
            if (newline) {
                newline = false;
                i++;
                line++;
                chunk_pos_ = i;
                if (!end_row(position(i), true)) return irregular();
                if (span.rows == max_rows || span.end_offset - span.start_offset >= max_bytes)
                    return span;
            }
        }
        chunk_pos_ = i;
    }
    // End of input.
    if (state == State::kQuoted || state == State::kCarriageReturn) return irregular();
    if (!(state == State::kFieldStart && row_empty) && !end_row(position(chunk_end_), false))
        return irregular();
    span.at_end = true;
    return span;
}

}  // namespace pg_ingest
