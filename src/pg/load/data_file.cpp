#include "pg/load/data_file.hpp"

#include "pg/load/file_change.hpp"
#include "pg/support/time_convert.hpp"

extern "C" {
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
}

namespace pg_ingest {

namespace {

// Nothing of the file is committed yet: a change found as its load begins is simply the version
// loaded (the one the catalog recorded was never read).
bool nothing_committed(const FileRow *file) {
    return !file->loading && file->byte_offset == 0 && file->chunk.chunk_id == 0;
}

void take_version(FileRow *file, const struct stat &st) {
    file->size = static_cast<int64>(st.st_size);
    file->mtime = timestamptz_from_ns(ns_from_timespec(st.st_mtim));
    file->verified_size = file->size;
    file->verified_mtime = file->mtime;
    file->content_sha256 = nullptr;
    file->known_sha256 = nullptr;
    file->change_retried = false;
    file->adopted = true;
}

// As the load begins. A file that grew with its recorded bytes intact after retry_file accepted
// the change is taken as it is now (a chunk's load goes on to its chunk's end, before the growth).
void check_version_at_open(int fd, const char *shown, FileRow *file, const struct stat &st) {
    if (static_cast<int64>(st.st_ino) == file->inode && nothing_committed(file)) {
        if (static_cast<int64>(st.st_size) != file->size ||
            timestamptz_from_ns(ns_from_timespec(st.st_mtim)) != file->mtime)
            take_version(file, st);
        return;
    }
    FileChange change = judge_file_change(fd, shown, file, st);
    if (change == FileChange::none) return;
    if (file->tailing && change == FileChange::shrank &&
        static_cast<int64>(st.st_size) < file->byte_offset) {
        file->truncated = true;
        return;
    }
    if (change != FileChange::grew || !(file->change_retried || file->tailing))
        raise_file_change(change, file, st, file->byte_offset);
    if (file->chunk.chunk_id != 0) return;
    take_version(file, st);
}

VersionCheck check_version(int fd, FileRow *file, int64 committed) {
    struct stat st;
    if (fstat(fd, &st) != 0) return VersionCheck::intact;
    FileChange change = judge_file_change(fd, file->file_name, file, st);
    // A chunk's load after retry_file accepted a growth, or in tail mode: the load's bytes end
    // before the growth.
    if (change == FileChange::none ||
        (change == FileChange::grew && (file->change_retried || file->tailing)))
        return VersionCheck::intact;
    if (file->tailing && change == FileChange::shrank && static_cast<int64>(st.st_size) < committed)
        return VersionCheck::truncated;
    raise_file_change(change, file, st, committed);
    return VersionCheck::intact;
}

}  // namespace

// At end of file: the reader must have read the file as discovered, to its last byte. A file
// truncated after the reader had buffered all of it still loads whole; one truncated before
// ends early and fails here, saying how it changed.
VersionCheck check_read_to_end(FileRow *file, int fd, uint64_t end, int64 committed) {
    if (static_cast<int64>(end) == load_end_offset(file)) return VersionCheck::intact;
    if (check_version(fd, file, committed) == VersionCheck::truncated)
        return VersionCheck::truncated;
    ereport(ERROR,
            (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
             errmsg("file \"%s\" ended at byte %llu of %lld", file->file_name,
                    static_cast<unsigned long long>(end), static_cast<long long>(file->size))));
}

// O_NONBLOCK and O_NOFOLLOW: a FIFO or a symlink swapped in after discovery neither blocks the
// worker nor leads it elsewhere. Messages name the file as the catalog shows it (`shown`).
// The descriptor is kept in *kept_fd at once, for abandon_file_load to close after an error.
int open_data_file(const char *path, const char *shown, FileRow *file, int *kept_fd) {
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        ereport(ERROR,
                (errcode_for_file_access(), errmsg("could not open file \"%s\": %m", shown)));
    *kept_fd = fd;
    struct stat st;
    if (fstat(fd, &st) != 0)
        ereport(ERROR,
                (errcode_for_file_access(), errmsg("could not stat file \"%s\": %m", shown)));
    if (!S_ISREG(st.st_mode))
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is not a regular file", shown)));
    check_version_at_open(fd, shown, file, st);
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

VersionCheck check_file_identity(int fd, FileRow *file, int64 committed) {
    return check_version(fd, file, committed);
}

void seek_data_file(int fd, uint64_t offset, const FileRow *file) {
    if (lseek(fd, static_cast<off_t>(offset), SEEK_SET) != static_cast<off_t>(offset))
        ereport(ERROR, (errcode_for_file_access(),
                        errmsg("could not seek in \"%s\": %m", file->file_name)));
}

}  // namespace pg_ingest
