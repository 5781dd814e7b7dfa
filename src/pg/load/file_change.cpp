#include "pg/load/file_change.hpp"

#include "pg/load/content_checksum.hpp"
#include "pg/support/time_convert.hpp"

namespace pg_ingest {

namespace {

// The fixes of a file whose recorded bytes are gone or differ.
constexpr const char *kRestoreFixes =
    "put its bytes back and ingest.retry_file loads the rest exactly once, or ingest.skip_file "
    "gives it up; to load the file as it is now, copy it under a new name";

// What raise_file_change raised last: an ERROR longjmps out of the load, and the worker then
// asks which change, if any, ended it (on_file_change decides what follows).
struct RaisedChange {
    int64 file_id;
    FileChange change;
};

RaisedChange raised = {0, FileChange::none};

}  // namespace

FileChange judge_file_change(int fd, const char *shown, FileRow *file, const struct stat &st) {
    if (static_cast<int64>(st.st_ino) != file->inode) return FileChange::replaced;
    auto size = static_cast<int64>(st.st_size);
    TimestampTz mtime = timestamptz_from_ns(ns_from_timespec(st.st_mtim));
    if (size == file->size && mtime == file->mtime) return FileChange::none;
    if (size == file->verified_size && mtime == file->verified_mtime)
        return size > file->size ? FileChange::grew : FileChange::none;
    if (size < file->size) return FileChange::shrank;
    const bytea *known =
        file->content_sha256 != nullptr ? file->content_sha256 : file->known_sha256;
    if (known == nullptr) return FileChange::rewritten;
    int64 read = 0;
    bytea *now = sha256_of_bytes(fd, shown, file->size, &read);
    if (read < file->size) return FileChange::shrank;
    bool intact = same_sha256(now, known);
    pfree(now);
    if (!intact) return FileChange::rewritten;
    file->verified_size = size;
    file->verified_mtime = mtime;
    return size > file->size ? FileChange::grew : FileChange::none;
}

char *describe_size_change(const char *file_name, int64 was, int64 size, int64 committed) {
    if (size > was)
        return psprintf(
            "file \"%s\" grew from %lld to %lld bytes: ingest.retry_file loads the rest from its "
            "committed offset %lld exactly once, or ingest.skip_file gives it up",
            file_name, static_cast<long long>(was), static_cast<long long>(size),
            static_cast<long long>(committed));
    if (size < committed)
        return psprintf(
            "file \"%s\" shrank from %lld to %lld bytes, below its committed offset "
            "%lld: %s",
            file_name, static_cast<long long>(was), static_cast<long long>(size),
            static_cast<long long>(committed), kRestoreFixes);
    return psprintf("file \"%s\" shrank from %lld to %lld bytes: %s", file_name,
                    static_cast<long long>(was), static_cast<long long>(size), kRestoreFixes);
}

char *describe_file_change(FileChange change, const FileRow *file, const struct stat &st,
                           int64 committed) {
    switch (change) {
        case FileChange::none:
        case FileChange::grew:
        case FileChange::shrank:
            return describe_size_change(file->file_name, file->size, static_cast<int64>(st.st_size),
                                        committed);
        case FileChange::rewritten:
            return psprintf(
                "file \"%s\" changed in place: its bytes before offset %lld differ "
                "from the version loaded up to offset %lld: %s",
                file->file_name, static_cast<long long>(file->size),
                static_cast<long long>(committed), kRestoreFixes);
        case FileChange::replaced:
            break;
    }
    return psprintf(
        "file \"%s\" was replaced by another file (inode %lld, was %lld), which is "
        "loaded as a new version of the name; the rest of this one is lost, as "
        "ingest.skip_file would give it up",
        file->file_name, static_cast<long long>(st.st_ino), static_cast<long long>(file->inode));
}

void raise_file_change(FileChange change, const FileRow *file, const struct stat &st,
                       int64 committed) {
    raised = {file->file_id, change};
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("%s", describe_file_change(change, file, st, committed))));
}

FileChange change_raised_for(int64 file_id) {
    return raised.file_id == file_id ? raised.change : FileChange::none;
}

void forget_raised_change() {
    raised = {0, FileChange::none};
}

const char *file_change_name(FileChange change) {
    switch (change) {
        case FileChange::none:
            return "is unchanged";
        case FileChange::grew:
            return "grew";
        case FileChange::shrank:
            return "shrank";
        case FileChange::rewritten:
            return "changed in place";
        case FileChange::replaced:
            break;
    }
    return "was replaced by another file";
}

}  // namespace pg_ingest
