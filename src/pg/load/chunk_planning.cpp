#include "pg/load/chunk_planning.hpp"

#include "pg/load/file_reading.hpp"

#include <climits>

extern "C" {
#include "miscadmin.h"
}

namespace pg_ingest {

namespace {

// A row boundary: where a row starts, on which line.
struct Boundary {
    uint64 offset;
    uint64 line;
    bool at_end;  // no row follows
};

// The first row boundary at least min_bytes after `from`, or the end of the input. Rows the
// scanner does not vouch for are read by CsvReader, a row at a time up to that boundary, where
// scanning resumes: the cut is the same whichever of the two finds it.
Boundary next_boundary(const SourceDefinition *source, const FileRow *file, int fd, int field_count,
                       Boundary from, uint64 min_bytes) {
    CsvSpan span = scan_span(INT_MAX, min_bytes);
    if (!span.irregular) return {span.end_offset, span.end_line, span.rows == 0 || span.at_end};
    start_reader(source, file, fd, span.start_offset, span.start_line);
    Boundary at = from;
    while (at.offset < from.offset + min_bytes) {
        if (!read_nonempty_batch(1)) return {at.offset, at.line, true};
        const CsvRow &row = read_rows().rows.back();
        at = {row.end_offset, row.end_line, false};
    }
    start_scanner(source, file, fd, field_count, at.offset, at.line);
    return at;
}

}  // namespace

ChunkCut *find_chunk_cuts(const SourceDefinition *source, const FileRow *file, int fd,
                          int field_count, uint64 data_offset, uint64 data_line, int *count) {
    const auto split_bytes = static_cast<uint64>(source->split_bytes);
    const auto size = static_cast<uint64>(file->size);
    // Each cut is split_bytes past the one before.
    auto *cuts = static_cast<ChunkCut *>(palloc(sizeof(ChunkCut) * (size / split_bytes + 1)));
    *count = 0;
    Boundary at = {data_offset, data_line, false};
    uint64 target = split_bytes;
    start_scanner(source, file, fd, field_count, at.offset, at.line);
    while (!at.at_end && target < size) {
        CHECK_FOR_INTERRUPTS();
        at = next_boundary(source, file, fd, field_count, at,
                           target > at.offset ? target - at.offset : 1);
        if (at.at_end || at.offset < target || at.offset >= size) continue;
        cuts[(*count)++] = {static_cast<int64>(at.offset), static_cast<int64>(at.line)};
        target = at.offset + split_bytes;
    }
    release_readers();
    return cuts;
}

}  // namespace pg_ingest
