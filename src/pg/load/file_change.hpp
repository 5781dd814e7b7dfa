// A file is judged by its bytes, not its timestamps. A changed mtime or ctime (touch, utime,
// chmod, a backup tool) only says where to look: the bytes of the version recorded are hashed
// again and compared with its SHA-256, taken before its first row. A change is a file that grew,
// shrank, or whose recorded bytes differ; a new inode under the name is another file.
#pragma once

#include "pg/catalog/file_catalog.hpp"

extern "C" {
#include <sys/stat.h>
}

namespace pg_ingest {

enum class FileChange {
    none,       // the recorded bytes are there as they were, and nothing follows them
    grew,       // the recorded bytes are there as they were, and more follow them
    shrank,     // the file is shorter than the version recorded
    rewritten,  // as long or longer, but the recorded bytes differ
    replaced,   // the name holds another file (another inode)
};

// What the file open as `fd` (its fstat in `st`) is, compared with the version `file` records.
// Nothing is read while size and mtime are those recorded or those last proven
// (file->verified_*); otherwise the recorded bytes are hashed again and compared with the
// checksum of this load or the catalog's. With neither, a change cannot be ruled out: rewritten.
FileChange judge_file_change(int fd, const char *shown, FileRow *file, const struct stat &st);

// The error a change makes of a file: what changed, and the fixes that apply. `committed`: the
// offset up to which the file's rows are committed.
char *describe_file_change(FileChange change, const FileRow *file, const struct stat &st,
                           int64 committed);
char *describe_size_change(const char *file_name, int64 was, int64 size, int64 committed);
// Raises describe_file_change as an ERROR, and keeps which change of which file it raised.
void raise_file_change(FileChange change, const FileRow *file, const struct stat &st,
                       int64 committed);
// After an ERROR: the change raise_file_change raised for the file (by its file_id) since
// forget_raised_change, or none when the error was another one.
FileChange change_raised_for(int64 file_id);
void forget_raised_change();
// "grew", "shrank", "changed in place" or "was replaced by another file", for the log.
const char *file_change_name(FileChange change);

}  // namespace pg_ingest
