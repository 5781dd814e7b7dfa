#include "pg/load/known_file_change.hpp"

#include "core/csv/compressed_source.hpp"
#include "pg/catalog/file_name_text.hpp"
#include "pg/load/content_checksum.hpp"
#include "pg/load/file_change.hpp"
#include "pg/load/rotated_file.hpp"
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

// The columns a version is read with (pick_newest).
#define VERSION_COLUMNS                                                                        \
    "SELECT file_id, status, file_size, file_mtime, file_inode, byte_offset, content_sha256, " \
    "  discovered_at, file_name, file_name_bytes, replay_requested FROM ingest.files "

bool pick_newest(const char *name, NewestVersion *newest);

// The catalog's newest version of the name, if any.
bool newest_version(const SourceDefinition *source, const char *name, NewestVersion *newest) {
    Oid types[3] = {TEXTOID, TEXTOID, BYTEAOID};
    bytea *bytes = file_name_bytes(name);
    Datum values[3] = {CStringGetTextDatum(source->name), CStringGetTextDatum(file_name_text(name)),
                       PointerGetDatum(bytes)};
    int ret = execute_prepared(VERSION_COLUMNS
                               "WHERE source = $1 AND file_name = $2 "
                               "  AND file_name_bytes IS NOT DISTINCT FROM $3",
                               3, types, values, bytes == nullptr ? "  n" : nullptr, true);
    check_spi_result(ret, SPI_OK_SELECT, "read ingest.files");
    return pick_newest(name, newest);
}

// Tail mode: the newest version of the source's files that has this inode, under another name
// than `name`, if any (files_inode_idx).
bool version_of_inode(const SourceDefinition *source, const char *name, int64 inode,
                      NewestVersion *newest) {
    Oid types[3] = {TEXTOID, INT8OID, TEXTOID};
    Datum values[3] = {CStringGetTextDatum(source->name), Int64GetDatum(inode),
                       CStringGetTextDatum(file_name_text(name))};
    int ret = execute_prepared(VERSION_COLUMNS
                               "WHERE source = $1 AND file_inode = $2 AND file_name <> $3",
                               3, types, values, nullptr, true);
    check_spi_result(ret, SPI_OK_SELECT, "read ingest.files");
    return pick_newest(nullptr, newest);
}

// The newest of the versions the last query read (by file_id), with its exact name: `name`, or
// nullptr to take it from the row.
bool pick_newest(const char *name, NewestVersion *newest) {
    if (SPI_processed == 0) return false;
    // No ORDER BY, which could lead a cached plan down files_pkey through every file of the
    // source: the versions are few, and the newest is picked here.
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
    row->file_name = TextDatumGetCString(SPI_getbinval(tuple, desc, 9, &isnull));
    Datum bytes = SPI_getbinval(tuple, desc, 10, &isnull);
    if (name != nullptr)
        row->disk_name = pstrdup(name);
    else if (isnull)
        row->disk_name = pstrdup(row->file_name);
    else
        row->disk_name = text_to_cstring(reinterpret_cast<text *>(DatumGetByteaPP(bytes)));
    row->size = DatumGetInt64(SPI_getbinval(tuple, desc, 3, &isnull));
    row->mtime = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 4, &isnull));
    row->inode = DatumGetInt64(SPI_getbinval(tuple, desc, 5, &isnull));
    row->byte_offset = DatumGetInt64(SPI_getbinval(tuple, desc, 6, &isnull));
    Datum known = SPI_getbinval(tuple, desc, 7, &isnull);
    row->known_sha256 = isnull ? nullptr : DatumGetByteaPCopy(known);
    row->verified_size = row->size;
    row->verified_mtime = row->mtime;
    newest->discovered_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 8, &isnull));
    newest->replay = DatumGetBool(SPI_getbinval(tuple, desc, 11, &isnull));
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

// Tail mode (on_file_change = append), for an uncompressed done file: one that grew with its
// recorded bytes intact goes back to loading, as it is now (the SHA-256 of its first st_size
// bytes; a file that is shorter by then is left for a later look); one truncated below its
// committed offset ends as it stands, and the file from byte 0 is a new version.
bool tail_done_file(const SourceDefinition *source, const char *name, const NewestVersion *newest,
                    FileChange change, int fd, const char *path, const struct stat &st) {
    const FileRow *row = &newest->row;
    if (source->on_file_change != FileChangeMode::append || strcmp(newest->status, "done") != 0 ||
        compression_of(row->disk_name) != Compression::kNone)
        return false;
    auto size = static_cast<int64>(st.st_size);
    if (change == FileChange::shrank && size < row->byte_offset) {
        end_truncated_version(row->file_id, size);
        register_file(source, name, size, timestamptz_from_ns(ns_from_timespec(st.st_mtim)),
                      static_cast<int64>(st.st_ino));
        return true;
    }
    if (change != FileChange::grew) return false;
    int64 read = 0;
    bytea *sha256 = sha256_of_bytes(fd, path, size, &read);
    if (read == size)
        reopen_grown_file(row->file_id, size, timestamptz_from_ns(ns_from_timespec(st.st_mtim)),
                          sha256);
    return true;
}

// Whether a change to the loaded file's bytes is acted on: a done file's always; with
// on_file_change = replace a failed file's too (loaded again as a whole, it may now load).
bool judges_changes(const SourceDefinition *source, const char *status) {
    return strcmp(status, "done") == 0 ||
           (source->on_file_change == FileChangeMode::replace && strcmp(status, "failed") == 0);
}

// A done or failed file with committed rows, seen with another size or mtime: judged by its
// bytes. A file that can no longer be opened is left as it is (a rescan looks again).
Arrival judge_loaded_file(const SourceDefinition *source, const char *name, NewestVersion *newest) {
    FileRow *row = &newest->row;
    Arrival arrival = {ArrivalOutcome::known, *row, nullptr, FileChange::none};
    char *path = psprintf("%s/%s", source->directory, name);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return arrival;
    struct stat st;
    FileChange change = FileChange::replaced;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) change = judge_file_change(fd, path, row, st);
    bool tailed = change != FileChange::none && change != FileChange::replaced &&
                  tail_done_file(source, name, newest, change, fd, path, st);
    close(fd);
    if (tailed) {
        arrival.outcome = ArrivalOutcome::tailed;
    } else if (change == FileChange::none) {
        record_file_mtime(row->file_id, row->verified_mtime);
    } else if (change != FileChange::replaced && judges_changes(source, newest->status)) {
        arrival = {ArrivalOutcome::changed, *row,
                   describe_file_change(change, row, st, row->byte_offset), change};
    }
    return arrival;
}

// Tail mode, rotation by rename: a version that `inode` holds under another name, which no
// longer holds it, is the file renamed (not a file born since on a reused inode). The name is
// then that version's: judged by its bytes (grown: it loads on from its offset), never a new
// file. True when the arrival is settled so.
bool settle_renamed(const SourceDefinition *source, const char *name, int64 inode,
                    Arrival *arrival) {
    NewestVersion renamed;
    if (source->on_file_change != FileChangeMode::append ||
        !version_of_inode(source, name, inode, &renamed) ||
        born_after(source, name, renamed.discovered_at))
        return false;
    char *holder = name_holding_inode(source->directory, renamed.row.disk_name, inode);
    if (holder == nullptr || strcmp(holder, name) != 0) return false;
    if (strcmp(renamed.status, "done") == 0)
        *arrival = judge_loaded_file(source, name, &renamed);
    else
        *arrival = {strcmp(renamed.status, "failed") == 0 || strcmp(renamed.status, "skipped") == 0
                        ? ArrivalOutcome::known
                        : ArrivalOutcome::deferred,
                    renamed.row, nullptr, FileChange::none};
    return true;
}

// Tail mode: the name holds a new file, and its previous version, renamed away, is read to its
// end once: judged by its bytes wherever its inode now is (a grown done file loads on).
void read_renamed_to_end(const SourceDefinition *source, NewestVersion *previous) {
    if (source->on_file_change != FileChangeMode::append || strcmp(previous->status, "done") != 0)
        return;
    char *holder =
        name_holding_inode(source->directory, previous->row.disk_name, previous->row.inode);
    if (holder != nullptr) (void)judge_loaded_file(source, holder, previous);
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
        Arrival renamed;
        if (!same_file && settle_renamed(source, name, inode, &renamed)) return renamed;
        register_file(source, name, size, mtime, inode);
        if (found && !same_file) read_renamed_to_end(source, &newest);
        return {ArrivalOutcome::registered, *row, nullptr, FileChange::none};
    }
    if (strcmp(newest.status, "skipped") == 0)
        return {ArrivalOutcome::known, *row, nullptr, FileChange::none};
    return judge_loaded_file(source, row->disk_name, &newest);
}

}  // namespace pg_ingest
