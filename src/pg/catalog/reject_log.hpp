// Writes refused lines to ingest.rejects, with the line's raw bytes read back from the file.
#pragma once

#include "pg/catalog/file_catalog.hpp"
#include "pg/catalog/source_definition.hpp"

namespace pg_ingest {

class UncompressedReader;

struct RejectTarget {
    const SourceDefinition *source;
    const FileRow *file;
    int fd;
    UncompressedReader *uncompressed;  // for a compressed file: offsets are uncompressed ones
    int64 count;
};

// The SQLSTATE of a line that does not parse as a row of the file (bad_copy_file_format, as COPY
// reports such lines).
constexpr char kUnparsableLineSqlstate[] = "22P04";

// Where a refused row lies in its file: lines line_number to last_line (one row can span several
// lines: a quoted line break, or an unterminated quote that runs to the end of the file), bytes
// [start_offset, end_offset).
struct RejectedSpan {
    int64 line_number;
    int64 last_line;
    int64 start_offset;
    int64 end_offset;
};

// In the current transaction, SPI connected.
void record_reject(RejectTarget *target, const RejectedSpan &row, const char *message,
                   const char *sqlstate);

}  // namespace pg_ingest
