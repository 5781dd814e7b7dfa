// A source as the worker uses it: its catalog row, read once at worker start.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pg_ingest {

enum class OnSuccess { Keep, Delete, Move };

// The option's value as validated ("keep", "delete", "move").
OnSuccess on_success_named(const char *name);

// What a file's header column that the target lacks does (option on_new_columns).
enum class OnNewColumns { Fail, Ignore, Rescue, Add };

// What a change to the bytes of a file with committed rows does (option on_file_change): fail
// it saying what changed, load lines added at its end (tail mode), or load it again as a whole
// in place of its previous rows.
enum class FileChangeMode { fail, append, replace };

struct SourceDefinition {
    int32 source_id;
    char *name;
    char *directory;
    Oid target;
    char *pattern;
    int batch_size;
    Oid owner;
    bool runnable;  // started and not failed
    char delimiter;
    char quote;
    bool header;
    char *null_string;
    int encoding;
    OnSuccess on_success;
    char *archive_directory;
    int min_age_ms;
    int max_field_bytes;
    bool limits_rejects;         // max_rejects_per_file is set (not null)
    int64 max_rejects_per_file;  // with limits_rejects
    char *ready_marker;          // suffix of completeness markers; "" when not used
    bool dedupe;                 // a file with the content of a done file is a duplicate
    int workers;                 // worker processes loading the source's files
    // Lineage: target columns filled with each row's file_id and line number; nullptr when unset.
    char *file_column;
    char *line_column;
    // Processing: the statements run on each batch's rows (relation `batch`) instead of the
    // plain insert into the target; nullptr when unset.
    char *transform;
    OnNewColumns on_new_columns;
    char *rescue_column;  // jsonb column that keeps unknown columns with Rescue; else nullptr
    // With workers > 1, a file larger than this is loaded in chunks by several workers (see
    // file_chunks.hpp); 0: files are never split.
    int split_bytes;
    FileChangeMode on_file_change;
};

// Reads the source in the current transaction (SPI connected); nullptr if it no longer exists.
// The result lives in TopMemoryContext.
SourceDefinition *read_source_definition(int32 source_id);

}  // namespace pg_ingest
