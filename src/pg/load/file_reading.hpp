// Reading a data file's rows: CsvSpanScanner finds plain spans for COPY, CsvReader parses rows
// for the row-by-row path. One file is read at a time; its reader objects live here, outside any
// PostgreSQL frame (see pg_guard.hpp).
#pragma once

#include "core/csv/csv_reader.hpp"
#include "core/csv/csv_span_scanner.hpp"
#include "pg/catalog/file_catalog.hpp"
#include "pg/catalog/source_definition.hpp"
#include "pg/insert/direct_copy.hpp"

#include <cstddef>
#include <cstdint>

namespace pg_ingest {

class UncompressedReader;

// A batch also ends after this much input, whatever batch_size: it bounds the worker's memory
// (the staged span, the parsed rows) for wide rows and large batch sizes.
constexpr size_t kMaxBatchBytes = 8 << 20;

// Positions CsvReader at offset (the start of line `line`); a compressed file is read from its
// start and its uncompressed bytes skipped up to offset.
void start_reader(const SourceDefinition *source, const FileRow *file, int fd, uint64_t offset,
                  uint64_t line);
// Both read to the end of the load (load_end_offset: a chunk's end, or the file's).
// Positions the scanner of rows with field_count fields at offset.
void start_scanner(const SourceDefinition *source, const FileRow *file, int fd, int field_count,
                   uint64_t offset, uint64_t line);
// The next span of at most max_rows rows, ending at the first row boundary after max_bytes.
CsvSpan scan_span(int max_rows, size_t max_bytes = kMaxBatchBytes);
// The scanner of a file's spans as COPY reads them (the direct path, copy_fenced_span): it does
// not read the file, it is handed each buffer COPY reads, and ends the span in it. Positioned at
// offset, the start of a row on `line`.
void start_fenced_scanner(const SourceDefinition *source, const FileRow *file, int fd,
                          int field_count, uint64_t offset, uint64_t line);
// Begins the next span where the last ended, at most max_rows rows ending at the first row
// boundary after max_bytes; the fence ends COPY's reading there.
const ReadFence *begin_fenced_span(int max_rows, size_t max_bytes = kMaxBatchBytes);
// The span, as far as COPY has read it: whole once COPY has ended.
const CsvSpan &fenced_span();
// Reads one batch with CsvReader, which is positioned, into read_rows(); false at end of file.
bool read_nonempty_batch(int max_rows);
// The batch read_nonempty_batch read.
const CsvBatch &read_rows();
// Where CsvReader stands, as a file offset.
uint64_t reader_offset();
// For a compressed file, the reader of its uncompressed text at any offset; else nullptr.
UncompressedReader *uncompressed_lines();
// Reads the header from the start of the file; returns the column names, allocated in context,
// or nullptr for an empty file. *end_offset and *end_line tell where the data starts.
char **read_header(const SourceDefinition *source, const FileRow *file, int fd,
                   MemoryContext context, int *count, uint64_t *end_offset, uint64_t *end_line);
// Tail mode: just after the last line terminator (the file's line end) of the file's first
// file->size bytes, at or after `from`, a line boundary; `from` when there is none.
int64 complete_lines_end(const SourceDefinition *source, const FileRow *file, int fd, int64 from);
// Frees the reader objects of the file read last.
void release_readers();

}  // namespace pg_ingest
