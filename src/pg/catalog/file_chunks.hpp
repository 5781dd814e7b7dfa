// Split files. With workers > 1, a file larger than option split_bytes is cut at row boundaries
// the reading proved (never inside a quoted field) into chunks, rows of ingest.file_chunks, which
// the source's workers load in parallel. Each chunk has its own committed position, written in
// each batch's transaction with the batch's rows, as a whole file has: a chunk loads exactly
// once, resuming after a crash where it stands. The file's row in ingest.files sums the chunks'
// counts and committed bytes, and the transaction that ends its last chunk marks it done.
//
// Who writes what: the worker that claimed the file (file_claim.hpp) plans its chunks in one
// transaction, so a crash before its commit leaves the file pending and whole, to be planned
// again. A chunk is then claimed by one worker (its own claim) while it loads; every commit of a
// chunk first updates the file's row, which takes the row's lock: the chunks' last commits are
// so ordered, and the one that finds every other chunk done marks the file done.
#pragma once

#include "pg/catalog/file_catalog.hpp"

namespace pg_ingest {

// Where a chunk after the first starts: the offset of a row's first byte, and its line.
struct ChunkCut {
    int64 offset;
    int64 line;
};

// Records the chunks the cuts make of the file (the first from byte 0, line 1, header
// included) and marks the file loading with its checksum; the caller then loads chunk 0, whose
// id this returns.
int64 record_chunks(const FileRow *file, const ChunkCut *cuts, int count);
// Claims the first chunk of the split file that is not done and no other worker holds, and makes
// the row that chunk's load; false when there is none.
bool claim_next_chunk(FileRow *row);
// record_batch and finish_file for a chunk's load.
bool record_chunk_batch(const FileRow *row, int64 byte_offset, int64 line_number, int64 loaded,
                        int64 rejected, bool ends_chunk);
bool finish_chunk(const FileRow *row);

}  // namespace pg_ingest
