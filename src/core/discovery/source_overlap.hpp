// One file, one source: whether two sources can take the same file. Directories are compared by
// device and inode, so a symbolic link or a bind mount of a directory is the same directory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace pg_ingest {

struct DirectoryKey {
    uint64_t device;
    uint64_t inode;
    bool operator==(const DirectoryKey &other) const {
        return device == other.device && inode == other.inode;
    }
};

// Where a source takes files: every name its pattern matches in its directory, and the ready
// markers of those names, which it deletes or moves with them; with on_success = move, the same
// names in its archive directory, where its files arrive and keep their inode.
struct SourceFiles {
    DirectoryKey directory;
    std::optional<DirectoryKey> archive_directory;  // on_success = move only
    std::string pattern;
    std::string ready_marker;  // empty: no markers
};

enum class SharedDirectory {
    directory_of_both,           // the sources watch one directory
    archive_is_other_directory,  // the first moves its files where the other watches
    directory_is_other_archive,  // the other moves its files where the first watches
};

struct Overlap {
    SharedDirectory where;
    std::string glob;        // the first source's, matching `example`
    std::string other_glob;  // the other source's, matching `example`
    std::string example;     // a file name both can take there
};

// How `source` and `other` can take one file; nullopt when they cannot.
std::optional<Overlap> find_overlap(const SourceFiles &source, const SourceFiles &other);

// The error text for an overlap: names both sources (`other_database` empty: the same database),
// the shared directory and a file name both can take. `directory` and `archive_directory` are
// `source`'s paths.
std::string describe_overlap(const std::string &name, const std::string &other_name,
                             const std::string &other_database, const std::string &directory,
                             const std::string &archive_directory, const Overlap &overlap);

}  // namespace pg_ingest
