// Finding the files of an input directory that are ready to ingest.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pg_ingest {

// Whether a directory entry may be ingested: its name matches `glob` (fnmatch with FNM_PERIOD),
// and it is not hidden (".*"), not a temporary file being written ("*.tmp", "*.part") and has no
// '/'.
bool is_candidate_name(std::string_view name, const std::string &glob);

// What identifies a version of a file: a file replaced under the same name has another inode, a
// file still growing another size or mtime.
struct FileIdentity {
    std::string name;  // base name within the directory
    uint64_t size;
    int64_t mtime_ns;  // since the Unix epoch
    uint64_t inode;
};

struct ScanEntry {
    FileIdentity identity;  // from lstat
    bool regular;           // false: never open it; `note` says what it is
    std::string note;       // e.g. "not a regular file: fifo"; empty for a regular file
    // Not examined: the caller vouched for it (see scan_directory); identity has name and inode.
    bool unexamined = false;
};

// Tells scan_directory that a regular file with this name and inode is known and needs no lstat
// (the caller learns of changes to it otherwise, e.g. from inotify).
using KnownFileTest = std::function<bool(const std::string &name, uint64_t inode)>;

// The candidate entries of `dir`, sorted by name in byte order. Entries other than regular files
// (symbolic links, FIFOs, devices, directories...) are included with regular = false so that the
// caller can record that it skips them; nothing is opened. Throws std::system_error naming the
// directory if it cannot be read.
// With known_file, regular files it vouches for are listed unexamined: in a directory of many
// already loaded files, a rescan then costs a readdir rather than an lstat per file.
std::vector<ScanEntry> scan_directory(const std::string &dir, const std::string &glob,
                                      const KnownFileTest &known_file = nullptr);

// The identity of `dir`/`name` if it is a regular file (not following symbolic links); nullopt if
// it is something else or cannot be examined, e.g. because it is gone.
std::optional<FileIdentity> stat_file(const std::string &dir, const std::string &name);

}  // namespace pg_ingest
