#include "pg/load/known_file_change.hpp"

#include "pg/catalog/file_name_text.hpp"
#include "pg/load/file_change.hpp"
#include "pg/support/prepared_statement.hpp"
#include "pg/support/time_convert.hpp"

extern "C" {
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

#include <cstring>

namespace pg_ingest {

namespace {

struct NewestVersion {
    FileRow row;
    char *status;
    bool replay;  // to be loaded again in place of its rows (replay_file, on_file_change)
    TimestampTz discovered_at;
};

// The catalog's newest version of the name, if any.
bool newest_version(const SourceDefinition *source, const char *name, NewestVersion *newest) {
    Oid types[3] = {TEXTOID, TEXTOID, BYTEAOID};
    bytea *bytes = file_name_bytes(name);
    Datum values[3] = {CStringGetTextDatum(source->name), CStringGetTextDatum(file_name_text(name)),
                       PointerGetDatum(bytes)};
    int ret = execute_prepared(
        "SELECT file_id, status, file_size, file_mtime, file_inode, byte_offset, content_sha256, "
        "  discovered_at, replay_requested "
        "FROM ingest.files WHERE source = $1 AND file_name = $2 "
        "  AND file_name_bytes IS NOT DISTINCT FROM $3",
        3, types, values, bytes == nullptr ? "  n" : nullptr, true);
    check_spi_result(ret, SPI_OK_SELECT, "read ingest.files");
    if (SPI_processed == 0) return false;
    // No ORDER BY, which could lead a cached plan down files_pkey through every file of the
    // source: the versions of one name are few, and the newest is picked here.
    TupleDesc desc = SPI_tuptable->tupdesc;
    bool isnull;
    uint64 newest_index = 0;
    for (uint64 i = 1; i < SPI_processed; i++)
        if (DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], desc, 1, &isnull)) >
            DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[newest_index], desc, 1, &isnull)))
            newest_index = i;
    HeapTuple tuple = SPI_tuptable->vals[newest_index];
    FileRow *row = &newest->row;
    *row = FileRow{};
    row->file_id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
    newest->status = TextDatumGetCString(SPI_getbinval(tuple, desc, 2, &isnull));
    row->file_name = file_name_text(name);
    row->disk_name = pstrdup(name);
    row->size = DatumGetInt64(SPI_getbinval(tuple, desc, 3, &isnull));
    row->mtime = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 4, &isnull));
    row->inode = DatumGetInt64(SPI_getbinval(tuple, desc, 5, &isnull));
    row->byte_offset = DatumGetInt64(SPI_getbinval(tuple, desc, 6, &isnull));
    Datum known = SPI_getbinval(tuple, desc, 7, &isnull);
    row->known_sha256 = isnull ? nullptr : DatumGetByteaPCopy(known);
    row->verified_size = row->size;
    row->verified_mtime = row->mtime;
    newest->discovered_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 8, &isnull));
    newest->replay = DatumGetBool(SPI_getbinval(tuple, desc, 9, &isnull));
    return true;
}

// A file born after the version was discovered is another file that reuses the inode of one
// deleted since (a common reuse); without a birth time from the file system, the inode decides.
bool born_after(const SourceDefinition *source, const char *name, TimestampTz discovered_at) {
    struct statx stx;
    char *path = psprintf("%s/%s", source->directory, name);
    bool known = statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BTIME, &stx) == 0 &&
                 (stx.stx_mask & STATX_BTIME) != 0;
    pfree(path);
    if (!known) return false;
    int64_t born_ns =
        static_cast<int64_t>(stx.stx_btime.tv_sec) * kNanosecondsPerSecond + stx.stx_btime.tv_nsec;
    return timestamptz_from_ns(born_ns) > discovered_at;
}

// Whether a change to the loaded file's bytes is acted on: a done file's always; with
// on_file_change = replace a failed file's too (loaded again as a whole, it may now load).
bool judges_changes(const SourceDefinition *source, const char *status) {
    return strcmp(status, "done") == 0 ||
           (source->on_file_change == FileChangeMode::replace && strcmp(status, "failed") == 0);
}

// A done or failed file with committed rows, seen with another size or mtime: judged by its
// bytes. A file that can no longer be opened is left as it is (a rescan looks again).
Arrival judge_loaded_file(const SourceDefinition *source, NewestVersion *newest) {
    FileRow *row = &newest->row;
    Arrival arrival = {ArrivalOutcome::known, *row, nullptr, FileChange::none};
    char *path = psprintf("%s/%s", source->directory, row->disk_name);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return arrival;
    struct stat st;
    FileChange change = FileChange::replaced;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) change = judge_file_change(fd, path, row, st);
    close(fd);
    if (change == FileChange::none) {
        record_file_mtime(row->file_id, row->verified_mtime);
    } else if (change != FileChange::replaced && judges_changes(source, newest->status)) {
        arrival = {ArrivalOutcome::changed, *row,
                   describe_file_change(change, row, st, row->byte_offset), change};
    }
    return arrival;
}

}  // namespace

Arrival settle_arrival(const SourceDefinition *source, const char *name, int64 size,
                       TimestampTz mtime, int64 inode) {
    NewestVersion newest;
    bool found = newest_version(source, name, &newest);
    FileRow *row = &newest.row;
    bool same_file =
        found && row->inode == inode && !born_after(source, name, newest.discovered_at);
    if (same_file && row->size == size && row->mtime == mtime)
        return {ArrivalOutcome::known, *row, nullptr, FileChange::none};
    if (same_file && strcmp(newest.status, "loading") == 0)
        return {ArrivalOutcome::deferred, *row, nullptr, FileChange::none};
    if (same_file && strcmp(newest.status, "pending") == 0) {
        // A replay adopts the version it opens, with its checksum, in its own transaction.
        if (newest.replay) return {ArrivalOutcome::known, *row, nullptr, FileChange::none};
        // Nothing of it is committed: it is loaded as it is now.
        row->size = size;
        row->mtime = mtime;
        adopt_file_version(row);
        return {ArrivalOutcome::known, *row, nullptr, FileChange::none};
    }
    // Without committed bytes (or, from before checksums, without a checksum to judge them by),
    // a file that changed is a new version of its name, as is another inode under it.
    if (!same_file || row->byte_offset == 0 || row->known_sha256 == nullptr) {
        register_file(source, name, size, mtime, inode);
        return {ArrivalOutcome::registered, *row, nullptr, FileChange::none};
    }
    if (strcmp(newest.status, "skipped") == 0)
        return {ArrivalOutcome::known, *row, nullptr, FileChange::none};
    return judge_loaded_file(source, &newest);
}

}  // namespace pg_ingest
