// A decoded JSON Lines row as one line of COPY's text format, for the direct COPY path to type
// with the columns' input functions.
//
// The contract with the loader:
//   - The line holds the row's *present* columns only (present_columns: every column whose
//     state is not kMissing), in the order of JsonlDecoderOptions::columns, separated by tabs
//     and ended by "\n". A missing column must take its default, which COPY gives only to a
//     column left out of its column list.
//   - So rows go to one `COPY target (c1, c2, ...) FROM STDIN` only together with rows of the
//     same present columns: the loader groups a batch by present_columns (most lines of a file
//     share one set) and runs one COPY per group, that group's names as the column list.
//   - A row with no present column (`{}`, or only unknown keys) has no COPY line: the loader
//     inserts it with DEFAULT VALUES.
//   - NULL is \N; a backslash, tab, newline and carriage return are escaped (\\ \t \n \r), so a
//     value never ends its field or line early. Text is UTF-8 (checked by the decoder) and never
//     holds a NUL byte, which jsonb refuses as \u0000 too.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/jsonl/jsonl_line_decoder.hpp"

namespace pg_ingest {

// The indexes of the line's present columns (cleared first).
void present_columns(const DecodedLine &line, std::vector<uint32_t> &columns);

// Appends the line's present columns as one line of COPY's text format.
void append_copy_text_row(const DecodedLine &line, std::string &out);

// Appends `text` escaped for a field of COPY's text format.
void append_copy_text_field(std::string_view text, std::string &out);

}  // namespace pg_ingest
