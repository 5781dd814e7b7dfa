// A data file as the worker reads it: opened without following links or blocking, and checked
// to be the version the catalog recorded (size, mtime, inode) before and while it is loaded.
// Errors are ereport(ERROR) naming the file.
#pragma once

#include "pg/catalog/file_catalog.hpp"

#include <cstdint>

namespace pg_ingest {

// Opens `path`; messages name the file as `shown`. The descriptor is kept in *kept_fd at once,
// for the caller to close after an error.
int open_data_file(const char *path, const char *shown, const FileRow *file, int *kept_fd);
// The file must still be the version discovered.
void check_file_identity(int fd, const FileRow *file);
// At end of input: the file must have been read, as discovered, to `end`, its last byte (a
// chunk's load: the chunk's).
void check_read_to_end(const FileRow *file, int fd, uint64_t end);
void seek_data_file(int fd, uint64_t offset, const FileRow *file);

}  // namespace pg_ingest
