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

// The file in ceil(size / split_bytes) chunks of equal size, rather than chunks of split_bytes
// and a short last one: the workers then run out of chunks together, none left with a whole
// chunk to load alone at the end.
uint64 chunk_step(uint64 size, uint64 split_bytes) {
    uint64 chunks = (size + split_bytes - 1) / split_bytes;
    return (size + chunks - 1) / chunks;
}

}  // namespace

ChunkCut *find_chunk_cuts(const SourceDefinition *source, const FileRow *file, int fd,
                          int field_count, uint64 data_offset, uint64 data_line, int *count) {
    const auto size = static_cast<uint64>(file->size);
    const uint64 step = chunk_step(size, static_cast<uint64>(source->split_bytes));
    // Each cut is at least `step` past the one before.
    auto *cuts = static_cast<ChunkCut *>(palloc(sizeof(ChunkCut) * (size / step + 1)));
    *count = 0;
    Boundary at = {data_offset, data_line, false};
    uint64 target = step;
    start_scanner(source, file, fd, field_count, at.offset, at.line);
    while (!at.at_end && target < size) {
        CHECK_FOR_INTERRUPTS();
        at = next_boundary(source, file, fd, field_count, at,
                           target > at.offset ? target - at.offset : 1);
        if (at.at_end || at.offset < target || at.offset >= size) continue;
        cuts[(*count)++] = {static_cast<int64>(at.offset), static_cast<int64>(at.line)};
        target = at.offset + step;
    }
    release_readers();
    return cuts;
}

}  // namespace pg_ingest
