// A file the directory shows with another size or mtime than the catalog's newest version of its
// name. Timestamps only say where to look: the same inode is the same file, judged by its bytes
// (file_change.hpp); only another file (a new inode, or one born after the version was discovered:
// an inode reused), or a name of which nothing was committed, makes a new version.
#pragma once

#include "pg/catalog/file_catalog.hpp"
#include "pg/load/file_change.hpp"

namespace pg_ingest {

enum class ArrivalOutcome {
    registered,  // a new file, or a new version of the name: pending
    known,       // the version recorded (a touch: its new mtime recorded), or one left as it is
    deferred,    // its version is being loaded: its load judges it; to be looked at again after
    // a done file whose bytes changed (with on_file_change = replace, a failed one too):
    // *reason says how, to fail it with
    changed,
    tailed,  // tail mode: a done file grew (loading again) or was truncated (a new version)
};

struct Arrival {
    ArrivalOutcome outcome;
    FileRow file;       // changed: the file's row
    char *reason;       // changed: describe_file_change's text
    FileChange change;  // changed: how
};

// In the caller's transaction. `name` is the exact name in the directory.
Arrival settle_arrival(const SourceDefinition *source, const char *name, int64 size,
                       TimestampTz mtime, int64 inode);

}  // namespace pg_ingest
