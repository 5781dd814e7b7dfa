// A file's line terminator. COPY's CSV reader takes the first one it finds outside a quoted field
// ("\n", "\r\n" or a lone "\r") as the file's, and rejects any other line break outside quotes:
// pg_ingest judges every line by the same rule.
#pragma once

namespace pg_ingest {

enum class LineEnd {
    kUnknown,  // not seen yet: the first line break outside quotes decides
    kNewline,
    kCarriageReturnNewline,
    kCarriageReturn,
};

// The byte that ends a line (the last of "\r\n"): lines are counted by it, also inside quotes.
inline char line_end_byte(LineEnd line_end) {
    return line_end == LineEnd::kCarriageReturn ? '\r' : '\n';
}

// COPY's words for a line break outside quotes that is not the file's terminator: `stray` is
// that break's byte.
inline const char *inconsistent_line_end_error(char stray) {
    return stray == '\r' ? "unquoted carriage return found in data"
                         : "unquoted newline found in data";
}

}  // namespace pg_ingest
