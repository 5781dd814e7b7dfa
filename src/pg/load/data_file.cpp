#include "pg/load/data_file.hpp"

#include "pg/support/time_convert.hpp"

extern "C" {
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
}

namespace pg_ingest {

namespace {

void check_identity(const FileRow *file, const struct stat &st, const char *when) {
    if (static_cast<int64>(st.st_size) != file->size ||
        timestamptz_from_ns(ns_from_timespec(st.st_mtim)) != file->mtime ||
        static_cast<int64>(st.st_ino) != file->inode)
        ereport(ERROR,
                (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                 errmsg("file \"%s\" changed %s (size %lld, was %lld)", file->file_name, when,
                        static_cast<long long>(st.st_size), static_cast<long long>(file->size))));
}

}  // namespace

// At end of file: the reader must have read the file as discovered, to its last byte. A file
// truncated after the reader had buffered all of it still loads whole; one truncated before
// ends early and fails here (fstat names its new size).
void check_read_to_end(const FileRow *file, int fd, uint64_t end) {
    if (static_cast<int64>(end) == load_end_offset(file)) return;
    struct stat st;
    if (fstat(fd, &st) == 0) check_identity(file, st, "while being loaded");
    ereport(ERROR,
            (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
             errmsg("file \"%s\" ended at byte %llu of %lld", file->file_name,
                    static_cast<unsigned long long>(end), static_cast<long long>(file->size))));
}

// O_NONBLOCK and O_NOFOLLOW: a FIFO or a symlink swapped in after discovery neither blocks the
// worker nor leads it elsewhere. Messages name the file as the catalog shows it (`shown`).
// The descriptor is kept in *kept_fd at once, for abandon_file_load to close after an error.
int open_data_file(const char *path, const char *shown, const FileRow *file, int *kept_fd) {
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
    check_identity(file, st, "since it was discovered");
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

void check_file_identity(int fd, const FileRow *file) {
    struct stat st;
    if (fstat(fd, &st) == 0) check_identity(file, st, "while being loaded");
}

void seek_data_file(int fd, uint64_t offset, const FileRow *file) {
    if (lseek(fd, static_cast<off_t>(offset), SEEK_SET) != static_cast<off_t>(offset))
        ereport(ERROR, (errcode_for_file_access(),
                        errmsg("could not seek in \"%s\": %m", file->file_name)));
}

}  // namespace pg_ingest
