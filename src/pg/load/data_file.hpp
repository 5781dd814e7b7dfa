// A data file as the worker reads it: opened without following links or blocking, and checked
// by its bytes (file_change.hpp) to be the version the catalog recorded before and while it is
// loaded. Errors are ereport(ERROR) naming the file and what changed.
#pragma once

#include "pg/catalog/file_catalog.hpp"

#include <cstdint>

namespace pg_ingest {

// What a check of the file open for a load found, short of an ERROR.
enum class VersionCheck {
    intact,     // the version being loaded (in tail mode, perhaps grown)
    truncated,  // tail mode: truncated below the committed offset, the version ends there
};

// Opens `path`; messages name the file as `shown`. The descriptor is kept in *kept_fd at once,
// for the caller to close after an error. A file of which nothing is committed yet is loaded as
// it is now, and so is one that grew after retry_file: file->adopted then says that its size
// and mtime are new, to be recorded (adopt_file_version). A touched file goes on.
int open_data_file(const char *path, const char *shown, FileRow *file, int *kept_fd);
// The file must still hold the bytes of the version being loaded, its rows committed up to
// `committed`. In tail mode a growth is no change, and a truncation below `committed` ends the
// version (truncated); any other change raises ERROR.
VersionCheck check_file_identity(int fd, FileRow *file, int64 committed);
// At end of input: the file must have been read, as discovered, to `end`, its last byte (a
// chunk's load: the chunk's); its rows are committed up to `committed`.
VersionCheck check_read_to_end(FileRow *file, int fd, uint64_t end, int64 committed);
void seek_data_file(int fd, uint64_t offset, const FileRow *file);

}  // namespace pg_ingest
