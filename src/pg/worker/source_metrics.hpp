// Counters per source since the server started (ingest.metrics), kept in shared memory like the
// cumulative statistics: a restart or a crash resets them. A source worker attaches to its
// source's entry once and then reports what it commits through the note_* calls, which cost one
// lock each and never fail.
#pragma once

#include "pg/insert/copy_path.hpp"

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

namespace pg_ingest {

struct SourceMetrics {
    Oid database_id;
    int32 source_id;
    bool in_use;
    int attached;  // workers reporting into it: never given to another source while > 0
    TimestampTz last_active_at;

    int64 files_done;
    int64 files_failed;
    int64 rows_loaded;
    int64 rows_rejected;
    int64 bytes_read;
    int64 batches;
    int64 batches_direct_copy;  // batches COPY loaded by each path (copy_path.hpp)
    int64 batches_spi_copy;
    int64 errors;
    int64 busy_microseconds;
    TimestampTz last_file_at;  // 0: no file done since start
};

// Room for twice pg_ingest.max_sources entries: every running source has one, and stopped ones
// keep theirs until the room is needed.
void request_source_metrics();

// In a source worker, before its first file.
void attach_source_metrics(Oid database_id, int32 source_id);

// A file's load starts from its committed byte offset.
void note_file_started(int64 committed_offset);
// A micro-batch committed, ending at end_offset of its file.
void note_batch_committed(int64 rows_loaded, int64 rows_rejected, int64 end_offset);
// The batch that just committed went through COPY by this path.
void note_copy_batch(CopyPath path);
void note_file_done();
// A small file done in the batch of the file before it (one transaction for several files):
// its rows, bytes and the file count, but no batch of its own.
void note_file_joined_batch(int64 rows_loaded, int64 bytes);
void note_file_failed();
// An error the worker logged that did not fail a file: a canceled load, a failed round, the
// error that stops the source.
void note_worker_error();

// DROP EXTENSION or DROP DATABASE: the source ids of that database may be used again.
void forget_database_metrics(Oid database_id);

// Copies of this database's entries in use, for ingest._source_metrics; returns the count. Only
// where the library was preloaded (shared() says so otherwise).
int source_metrics_capacity();
int snapshot_database_metrics(Oid database_id, SourceMetrics *out, int capacity);

}  // namespace pg_ingest
