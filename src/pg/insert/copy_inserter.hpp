// Loads plain spans of a data file (see CsvSpanScanner) with COPY, as the source's owner: COPY's
// own parser, input functions and multi-row inserts, triggers, constraints and partition routing.
// Two paths (copy_path.hpp): where no ProcessUtility hook but pg_ingest's own is installed, COPY
// reads the span from the data file itself (direct_copy.hpp); otherwise a COPY statement through
// SPI reads it from a worker-private staging file, so that the hooks (Citus, TimescaleDB) see it
// as any COPY the owner runs.
#pragma once

#include "pg/catalog/source_definition.hpp"
#include "pg/insert/copy_path.hpp"
#include "pg/insert/direct_copy.hpp"
#include "pg/insert/transform_batch.hpp"

extern "C" {
#include "postgres.h"
#include "executor/spi.h"
}

namespace pg_ingest {

struct CopyInserter {
    Oid owner;
    CopyPath path;
    SPIPlanPtr plan;          // the spi path's statement
    DirectCopyTarget target;  // the direct path's
    // With option transform: COPY fills `batch` and the transform runs in the same
    // subtransaction; its error sends the span down the row path, which isolates the rows.
    TransformBatch *transform;
};

// nullptr when COPY must not be used for this file: row-level security applies to the owner on
// the target (COPY FROM refuses it) and there is no transform (whose COPY fills `batch`). An
// owner who may not read server files loads nothing at all (owner_refusal). header_names is
// nullptr without a header (then the target's columns in order). With a transform, COPY fills
// `batch` and the transform runs after it. Needs a transaction.
CopyInserter *prepare_copy_inserter(const SourceDefinition *source, const char *const *header_names,
                                    int header_count, TransformBatch *transform,
                                    MemoryContext context);
void free_copy_inserter(CopyInserter *inserter);

// The path this worker's COPYs take: direct unless a ProcessUtility hook other than pg_ingest's
// own is installed.
CopyPath current_copy_path();

// Copies bytes [start, end) of data_fd into the staging file at offset `at` (shared batches).
void stage_span(int data_fd, uint64 start, uint64 end, uint64 at);
// COPYs the staging file's first `length` bytes in a subtransaction, as copy_span does.
bool copy_staged(CopyInserter *inserter, uint64 length, uint64 rows);

// COPYs bytes [start, end) of data_fd in a subtransaction. True when COPY stored exactly `rows`
// rows; otherwise the subtransaction is rolled back and false returned, and the caller loads the
// span row by row to find out which rows are bad.
bool copy_span(CopyInserter *inserter, int data_fd, uint64 start, uint64 end, uint64 rows);

// The direct path's copy_span of a span not yet scanned: COPY reads data_fd from `start` (at most
// to `end`) as far as `fence` admits, and must store the rows the fence then counts. A fence
// that finds a row COPY may not take has COPY refused, as copy_span is.
bool copy_fenced_span(CopyInserter *inserter, int data_fd, uint64 start, uint64 end,
                      const ReadFence *fence);

}  // namespace pg_ingest
