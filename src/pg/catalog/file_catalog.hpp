// The worker's reads and writes of ingest.files and ingest.sources. Callers are inside a
// transaction with SPI connected.
#pragma once

#include "pg/catalog/source_definition.hpp"

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
}

namespace pg_ingest {

// The chunk of a split file that a load covers (see file_chunks.hpp); chunk_id 0: the whole file.
struct FileChunk {
    int64 chunk_id;
    int32 chunk_no;
    int64 end_offset;  // just after the chunk's last row
};

struct FileRow {
    int64 file_id;
    char *file_name;  // as the catalog shows it (see file_name_text.hpp)
    char *disk_name;  // the exact name in the directory
    int64 size;
    TimestampTz mtime;
    int64 inode;
    bool loading;
    int64 byte_offset;
    int64 line_number;
    int64 rows_loaded;
    int64 rows_rejected;
    bool replay;  // ingest.replay_file asked for the file's rows to be loaded anew
    // The content's SHA-256 once this load computed it (nullptr before, or when it is not
    // computed), written by the file's next record_batch or finish_file.
    bytea *content_sha256;
    // The catalog's content_sha256 as the load began (nullptr: none yet), and the size and mtime
    // at which the file's recorded bytes were last proven unchanged (see file_change.hpp).
    bytea *known_sha256;
    int64 verified_size;
    TimestampTz verified_mtime;
    // retry_file accepted a change: a file that grew with its recorded bytes intact loads on.
    bool change_retried;
    // Nothing was committed yet, or retry_file accepted its growth, and the file opened with
    // another size or mtime: size and mtime are the file's now, to be recorded.
    bool adopted;
    bool split;  // the file has chunks in ingest.file_chunks: it loads chunk by chunk
    // For a chunk's load: the chunk, and byte_offset, line_number and loading are the chunk's.
    FileChunk chunk;
    // Tail mode (on_file_change = append): growth with the recorded bytes intact is no change,
    // and a whole file's load ends at lines_end, just after its last line terminator, so a last
    // line still being written is never read.
    bool tailing;
    int64 lines_end;
    // Tail mode: found truncated below its committed offset as its load began (open_data_file).
    bool truncated;
};

// Where a load of the row ends: its chunk's end, its last line terminator in tail mode, or the
// file's end.
inline int64 load_end_offset(const FileRow *row) {
    if (row->chunk.chunk_id != 0) return row->chunk.end_offset;
    return row->tailing ? row->lines_end : row->size;
}

// A file's recorded version becomes the one it is now (open_data_file adopted it): its size, mtime
// and checksum, and retry_file's acceptance of a change is used up.
void adopt_file_version(const FileRow *row);
// A done file whose bytes changed after its load (file_change.hpp) is failed with `message`.
void fail_changed_file(int64 file_id, const char *message);
// Tail mode: a done file that grew with its recorded bytes intact goes back to loading, as the
// version it is now (size, mtime, the SHA-256 of its first `size` bytes); the chunks of a split
// file, all done, go (the rest loads as a whole file from where they end).
void reopen_grown_file(int64 file_id, int64 size, TimestampTz mtime, bytea *sha256);
// Tail mode: a file truncated below its committed offset ends as it stands, done with its rows,
// its error saying so; the file from byte 0 is a new version (registered by the watcher).
void end_truncated_version(int64 file_id, int64 size);
// Tail mode, in the transaction that marks the file done: its error says how many bytes after
// its last line terminator wait for one (or nothing, when none wait).
void note_waiting_bytes(int64 file_id);
// on_file_change = replace: the file, whose bytes changed, is to be loaded again as a whole in
// place of its rows, as ingest.replay_file asks (pending, replay_requested). Only while the
// catalog records the version `row` holds (its size and mtime): a load that judged an older
// version asks nothing. True when asked.
bool request_replace(const FileRow *row);
// A file's mtime moved while its recorded bytes stayed the same: the new mtime is recorded, so
// that the file is known as it is.
void record_file_mtime(int64 file_id, TimestampTz mtime);

// `name` is the exact name in the directory. With on_file_change = replace, a new version of a
// name whose earlier versions may have rows is registered to be loaded in place of them
// (replay_requested; see file_replay.hpp).
void register_file(const SourceDefinition *source, const char *name, int64 size, TimestampTz mtime,
                   int64 inode);
// The first pending or loading file in name order that this worker could claim (see
// file_claim.hpp), skipping those its sibling workers hold; false when there is none. The row
// is read after the claim and allocated in the given memory context.
bool next_open_file(const SourceDefinition *source, MemoryContext context, FileRow *row);
// next_open_file for a shared batch gathering the files after its first (file_loader.cpp): one
// query lists a page of candidates, and the next calls try the rest of that page before they
// query again. forget_open_file_page() when the batch has its files.
bool next_open_file_of_batch(const SourceDefinition *source, MemoryContext context, FileRow *row);
void forget_open_file_page();
// The next search starts after this file again: the files found after it were given back.
void resume_open_file_search_after(const FileRow *row);
// Gives up the claim next_open_file took for the row: its chunk's, or the file's.
void release_open_file(const FileRow *row);
// A committed batch's new position and counts. With ends_file, the same statement also marks the
// file done (finish_file's work: one row version less per file in ingest.files). For a chunk's
// load, the chunk's position and the file's counts (see file_chunks.hpp), and ends_file ends the
// chunk. True when the file is now done (a chunk's: when it was the last one).
bool record_batch(const FileRow *row, int64 byte_offset, int64 line_number, int64 loaded,
                  int64 rejected, bool ends_file = false);
// These, and find_duplicate for a duplicate, NOTIFY pg_ingest with the file's outcome.
// finish_file also clears a replay request: the replay is done with the commit. For a chunk's
// load it marks the chunk done; true when the file is now done.
bool finish_file(const FileRow *row);
// A split file whose every chunk is done is marked done; true when it was. The caller's
// transaction must hold the file's row lock (see file_chunks.cpp).
bool finish_split_file(int64 file_id);
// The statuses of a file still to be loaded, as a text[] parameter (see the .cpp).
Datum open_statuses();
void fail_file(int64 file_id, const char *message);
// A done file that on_success left where it is: its row's error says why.
void note_file_kept(int64 file_id, const char *note);
// Whether any file of the source is failed (an index on failed files answers it).
bool has_failed_files(const SourceDefinition *source);
// With the source's `dedupe`, a done file of the source with the same size and content SHA-256
// (under whatever name) makes this pending file a duplicate of it, never loaded: marks it so,
// with its checksum, and returns that file's name; else nullptr.
char *find_duplicate(const SourceDefinition *source, const FileRow *row, bytea *sha256);
void purge_rejects(const SourceDefinition *source, int retention_minutes);
// Marks the source failed so it stays stopped until ingest.start.
void fail_source(int32 source_id, const char *message);

// Calls fn with the exact name of each file's newest version.
using KnownFileFn = void (*)(const char *name, int64 size, TimestampTz mtime, int64 inode,
                             void *context);
void for_each_known_file(const SourceDefinition *source, KnownFileFn fn, void *context);

}  // namespace pg_ingest
