// Where a file to be split is cut. A cut is a row boundary the reading proved, found the way a
// load reads the file: CsvSpanScanner, which knows the quote state of every byte, and CsvReader
// where the scanner does not vouch for the rows. So a cut never falls inside a quoted field, even
// one spanning many lines, and its line number is the true line of the row that starts there.
#pragma once

#include "pg/catalog/file_chunks.hpp"
#include "pg/catalog/source_definition.hpp"

namespace pg_ingest {

// The cuts of the file, whose data rows (field_count fields) start at data_offset on data_line:
// the file is to be ceil(size / split_bytes) chunks of equal size, so each cut is the first row
// boundary at least size / chunks after the previous cut (the first: after the file's start),
// before the file's end. Allocated in CurrentMemoryContext; *count may be 0 (no such boundary).
// Reads the file through file_reading.hpp.
ChunkCut *find_chunk_cuts(const SourceDefinition *source, const FileRow *file, int fd,
                          int field_count, uint64 data_offset, uint64 data_line, int *count);

}  // namespace pg_ingest
