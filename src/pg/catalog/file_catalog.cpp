#include "pg/catalog/file_catalog.hpp"

#include "pg/catalog/file_chunks.hpp"
#include "pg/catalog/file_claim.hpp"
#include "pg/catalog/file_name_text.hpp"
#include "pg/support/prepared_statement.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

namespace pg_ingest {

namespace {

Datum column(HeapTuple tuple, int number, bool *isnull) {
    return SPI_getbinval(tuple, SPI_tuptable->tupdesc, number, isnull);
}

// The exact name of a file: file_name_bytes when it is set, else file_name.
char *disk_name(HeapTuple tuple, int text_column, int bytes_column, MemoryContext context) {
    bool isnull;
    Datum bytes = column(tuple, bytes_column, &isnull);
    if (isnull)
        return MemoryContextStrdup(context,
                                   TextDatumGetCString(column(tuple, text_column, &isnull)));
    bytea *name = DatumGetByteaPP(bytes);
    size_t length = VARSIZE_ANY_EXHDR(name);
    char *result = static_cast<char *>(MemoryContextAllocZero(context, length + 1));
    memcpy(result, VARDATA_ANY(name), length);
    return result;
}

// The statement that sets a file's final status (`assignments`, on the row `condition` selects;
// both string literals) and announces it with ingest._notify_finished (NOTIFY pg_ingest,
// delivered when the transaction commits). A macro, so that each statement stays one literal:
// execute_prepared knows its plan by the literal's address.
#define FINISH_AND_NOTIFY(assignments, condition)                                            \
    "WITH finished AS (UPDATE ingest.files f SET " assignments                               \
    ", "                                                                                     \
    "  started_at = coalesce(started_at, pg_catalog.now()), finished_at = pg_catalog.now() " \
    "  WHERE " condition                                                                     \
    " RETURNING f) "                                                                         \
    "SELECT ingest._notify_finished(f) FROM finished"

void finish_and_notify(const char *sql, int nargs, Oid *types, Datum *values,
                       const char *nulls = nullptr) {
    execute_prepared_checked(sql, nargs, types, values, nulls, SPI_OK_SELECT);
}

}  // namespace

// The statuses of a file still to be loaded, as a parameter: a statement that finds a file by
// file_id and checks `status = ANY ($n)` cannot be planned as a walk of files_open_idx (whose
// predicate a literal IN list would match). A plan cached while that index looked empty walked
// every open file instead of probing files_pkey: quadratic in a backlog.
Datum open_statuses() {
    static Datum statuses = 0;
    if (statuses == 0) {
        MemoryContext outside = MemoryContextSwitchTo(TopMemoryContext);
        Datum elements[2] = {CStringGetTextDatum("pending"), CStringGetTextDatum("loading")};
        statuses = PointerGetDatum(construct_array(elements, 2, TEXTOID, -1, false, TYPALIGN_INT));
        MemoryContextSwitchTo(outside);
    }
    return statuses;
}

void register_file(const SourceDefinition *source, const char *name, int64 size, TimestampTz mtime,
                   int64 inode) {
    Oid types[7] = {TEXTOID, TEXTOID, BYTEAOID, INT8OID, TIMESTAMPTZOID, INT8OID, BOOLOID};
    bytea *bytes = file_name_bytes(name);
    Datum values[7] = {CStringGetTextDatum(source->name),
                       CStringGetTextDatum(file_name_text(name)),
                       PointerGetDatum(bytes),
                       Int64GetDatum(size),
                       TimestampTzGetDatum(mtime),
                       Int64GetDatum(inode),
                       BoolGetDatum(source->on_file_change == FileChangeMode::replace)};
    char nulls[8] = "       ";
    if (bytes == nullptr) nulls[2] = 'n';
    execute_prepared_checked(
        "INSERT INTO ingest.files (source, file_name, file_name_bytes, file_size, file_mtime, "
        "  file_inode, replay_requested) "
        "SELECT $1, $2, $3, $4, $5, $6, $7 AND EXISTS (SELECT 1 FROM ingest.files o "
        "  WHERE o.source = $1 AND o.file_name = $2 "
        "    AND o.file_name_bytes IS NOT DISTINCT FROM $3 "
        "    AND o.status NOT IN ('replaced', 'duplicate')) "
        "ON CONFLICT DO NOTHING",
        7, types, values, nulls, SPI_OK_INSERT);
}

namespace {

// Reads an open file's row anew, after its claim: it may have been finished, failed or skipped
// since it was listed, and another worker may have committed batches of it.
bool read_open_file(int64 file_id, MemoryContext context, FileRow *row) {
    Oid types[2] = {INT8OID, TEXTARRAYOID};
    Datum values[2] = {Int64GetDatum(file_id), open_statuses()};
    int ret = execute_prepared(
        "SELECT file_id, file_name, file_size, file_mtime, file_inode, status = 'loading', "
        "  byte_offset, line_number, rows_loaded, rows_rejected, file_name_bytes, "
        "  replay_requested, "
        "  EXISTS (SELECT 1 FROM ingest.file_chunks c WHERE c.file_id = f.file_id), "
        "  content_sha256, change_retried "
        "FROM ingest.files f WHERE file_id = $1 AND status = ANY ($2)",
        2, types, values, nullptr, false);
    if (ret != SPI_OK_SELECT) elog(ERROR, "pg_ingest: could not read ingest.files");
    if (SPI_processed == 0) return false;
    HeapTuple tuple = SPI_tuptable->vals[0];
    bool isnull;
    row->file_id = DatumGetInt64(column(tuple, 1, &isnull));
    row->file_name = MemoryContextStrdup(context, TextDatumGetCString(column(tuple, 2, &isnull)));
    row->size = DatumGetInt64(column(tuple, 3, &isnull));
    row->mtime = DatumGetTimestampTz(column(tuple, 4, &isnull));
    row->inode = DatumGetInt64(column(tuple, 5, &isnull));
    row->loading = DatumGetBool(column(tuple, 6, &isnull));
    row->byte_offset = DatumGetInt64(column(tuple, 7, &isnull));
    row->line_number = DatumGetInt64(column(tuple, 8, &isnull));
    row->rows_loaded = DatumGetInt64(column(tuple, 9, &isnull));
    row->rows_rejected = DatumGetInt64(column(tuple, 10, &isnull));
    row->disk_name = disk_name(tuple, 2, 11, context);
    row->replay = DatumGetBool(column(tuple, 12, &isnull));
    row->content_sha256 = nullptr;
    row->split = DatumGetBool(column(tuple, 13, &isnull));
    Datum known = column(tuple, 14, &isnull);
    MemoryContext outside = MemoryContextSwitchTo(context);
    row->known_sha256 = isnull ? nullptr : DatumGetByteaPCopy(known);
    MemoryContextSwitchTo(outside);
    row->verified_size = row->size;
    row->verified_mtime = row->mtime;
    row->change_retried = DatumGetBool(column(tuple, 15, &isnull));
    row->adopted = false;
    row->chunk = FileChunk{0, 0, 0};
    row->tailing = false;
    row->lines_end = 0;
    row->truncated = false;
    return true;
}

}  // namespace

namespace {

// Where the last search for an open file ended: the next search starts there, so that it does not
// step again over the index entries of every file loaded since the last vacuum. Only when nothing
// is open after it does a search start from the first name.
char search_from_name[MAXPGPATH * 4] = "";
int64 search_from_id = 0;

// Claims the file and reads its row; false when another worker holds it or it is no longer
// open. A split file is claimed chunk by chunk (its first chunk free), a replay whole.
bool claim_candidate(int64 file_id, MemoryContext context, FileRow *row) {
    if (!claim_file(file_id)) return false;
    bool open = read_open_file(file_id, context, row);
    if (open && (!row->split || row->replay)) return true;
    bool chunk_claimed = open && claim_next_chunk(row);
    release_file_claim(file_id);
    return chunk_claimed;
}

// The candidates of a shared batch's last page that it has not tried yet.
struct CandidatePage {
    int64 ids[kMaxFileClaims];
    int count;
    int next;
};

CandidatePage page = {{}, 0, 0};

void keep_rest_of_page(const int64 *ids, int count) {
    Assert(count <= kMaxFileClaims);
    memcpy(page.ids, ids, sizeof(int64) * count);
    page.count = count;
    page.next = 0;
}

// The first open file after (from_name, from_id) in name order that this worker can claim,
// listed page_size at a time; with keep_page, the page's untried rest is kept.
bool claim_open_file_after(const SourceDefinition *source, const char *from_name, int64 from_id,
                           int page_size, bool keep_page, MemoryContext context, FileRow *row) {
    Oid types[4] = {TEXTOID, TEXTOID, INT8OID, INT4OID};
    Datum values[4] = {CStringGetTextDatum(source->name), CStringGetTextDatum(from_name),
                       Int64GetDatum(from_id), Int32GetDatum(page_size)};
    auto *ids = static_cast<int64 *>(palloc(sizeof(int64) * page_size));
    for (;;) {
        int ret = execute_prepared(
            "SELECT file_id, file_name FROM ingest.files "
            "WHERE source = $1 AND status IN ('pending', 'loading') "
            "  AND (file_name, file_id) > ($2, $3) "
            "ORDER BY file_name, file_id LIMIT $4",
            4, types, values, nullptr, false);
        if (ret != SPI_OK_SELECT) elog(ERROR, "pg_ingest: could not read ingest.files");
        int count = static_cast<int>(SPI_processed);
        if (count == 0) return false;
        bool isnull;
        for (int i = 0; i < count; i++)
            ids[i] = DatumGetInt64(column(SPI_tuptable->vals[i], 1, &isnull));
        HeapTuple last = SPI_tuptable->vals[count - 1];
        values[1] = PointerGetDatum(PG_DETOAST_DATUM_COPY(column(last, 2, &isnull)));
        values[2] = Int64GetDatum(ids[count - 1]);
        for (int i = 0; i < count; i++) {
            if (!claim_candidate(ids[i], context, row)) continue;
            if (keep_page) keep_rest_of_page(ids + i + 1, count - i - 1);
            return true;
        }
        if (count < page_size) return false;
    }
}

void search_from(const FileRow *row) {
    if (row == nullptr) {
        search_from_name[0] = '\0';
        search_from_id = 0;
        return;
    }
    strlcpy(search_from_name, row->file_name, sizeof search_from_name);
    search_from_id = row->file_id;
}

bool search_open_file(const SourceDefinition *source, int page_size, bool keep_page,
                      MemoryContext context, FileRow *row) {
    bool found = claim_open_file_after(source, search_from_name, search_from_id, page_size,
                                       keep_page, context, row);
    if (!found && (search_from_name[0] != '\0' || search_from_id != 0))
        found = claim_open_file_after(source, "", 0, page_size, keep_page, context, row);
    search_from(found ? row : nullptr);
    return found;
}

}  // namespace

bool next_open_file(const SourceDefinition *source, MemoryContext context, FileRow *row) {
    // A page of as many candidates as the source has workers: the others hold at most one
    // claim each, so the first page nearly always has a file for this one.
    return search_open_file(source, source->workers, false, context, row);
}

bool next_open_file_of_batch(const SourceDefinition *source, MemoryContext context, FileRow *row) {
    while (page.next < page.count) {
        if (!claim_candidate(page.ids[page.next++], context, row)) continue;
        search_from(row);
        return true;
    }
    forget_open_file_page();
    return search_open_file(source, kMaxFileClaims, true, context, row);
}

void forget_open_file_page() {
    page.count = page.next = 0;
}

void resume_open_file_search_after(const FileRow *row) {
    forget_open_file_page();
    search_from(row);
}

void release_open_file(const FileRow *row) {
    if (row->chunk.chunk_id != 0)
        release_chunk_claim(row->chunk.chunk_id);
    else
        release_file_claim(row->file_id);
}

// The checksum is written by the file's first catalog update of this load, with its first rows
// or its final status: a separate UPDATE of its own (content_sha256 is indexed) cost a new row
// version and index entries per file.
bool record_batch(const FileRow *row, int64 byte_offset, int64 line_number, int64 loaded,
                  int64 rejected, bool ends_file) {
    if (row->chunk.chunk_id != 0)
        return record_chunk_batch(row, byte_offset, line_number, loaded, rejected, ends_file);
    Oid types[7] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, TEXTARRAYOID, BYTEAOID};
    Datum values[7] = {Int64GetDatum(row->file_id),
                       Int64GetDatum(byte_offset),
                       Int64GetDatum(line_number),
                       Int64GetDatum(loaded),
                       Int64GetDatum(rejected),
                       open_statuses(),
                       PointerGetDatum(row->content_sha256)};
    const char *nulls = row->content_sha256 == nullptr ? "      n" : nullptr;
    if (ends_file)
        finish_and_notify(
            FINISH_AND_NOTIFY("status = 'done', replay_requested = false, byte_offset = $2, "
                              "  line_number = $3, rows_loaded = rows_loaded + $4, "
                              "  rows_rejected = rows_rejected + $5, "
                              "  content_sha256 = coalesce($7, content_sha256)",
                              "file_id = $1 AND status = ANY ($6)"),
            7, types, values, nulls);
    else
        execute_prepared_checked(
            "UPDATE ingest.files SET status = 'loading', "
            "  started_at = coalesce(started_at, pg_catalog.now()), byte_offset = $2, "
            "  line_number = $3, rows_loaded = rows_loaded + $4, "
            "  rows_rejected = rows_rejected + $5, content_sha256 = coalesce($7, content_sha256) "
            "WHERE file_id = $1 AND status = ANY ($6)",
            7, types, values, nulls, SPI_OK_UPDATE);
    if (SPI_processed != 1)
        ereport(ERROR,
                (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                 errmsg("file \"%s\" was skipped while it was being loaded", row->file_name)));
    return ends_file;
}

bool finish_file(const FileRow *row) {
    if (row->chunk.chunk_id != 0) return finish_chunk(row);
    Oid types[2] = {INT8OID, BYTEAOID};
    Datum values[2] = {Int64GetDatum(row->file_id), PointerGetDatum(row->content_sha256)};
    finish_and_notify(FINISH_AND_NOTIFY("status = 'done', replay_requested = false, "
                                        "  content_sha256 = coalesce($2, content_sha256)",
                                        "file_id = $1"),
                      2, types, values, row->content_sha256 == nullptr ? " n" : nullptr);
    return true;
}

bool finish_split_file(int64 file_id) {
    Oid types[2] = {INT8OID, TEXTARRAYOID};
    Datum values[2] = {Int64GetDatum(file_id), open_statuses()};
    finish_and_notify(
        FINISH_AND_NOTIFY("status = 'done'",
                          "file_id = $1 AND status = ANY ($2) AND NOT EXISTS (SELECT 1 FROM "
                          "ingest.file_chunks c WHERE c.file_id = $1 AND c.status <> 'done')"),
        2, types, values);
    return SPI_processed == 1;
}

void fail_file(int64 file_id, const char *message) {
    Oid types[3] = {INT8OID, TEXTOID, TEXTARRAYOID};
    Datum values[3] = {Int64GetDatum(file_id), CStringGetTextDatum(message), open_statuses()};
    finish_and_notify(
        FINISH_AND_NOTIFY("status = 'failed', error = $2", "file_id = $1 AND status = ANY ($3)"), 3,
        types, values);
}

void note_file_kept(int64 file_id, const char *note) {
    Oid types[2] = {INT8OID, TEXTOID};
    Datum values[2] = {Int64GetDatum(file_id), CStringGetTextDatum(note)};
    execute_prepared_checked("UPDATE ingest.files SET error = $2 WHERE file_id = $1", 2, types,
                             values, nullptr, SPI_OK_UPDATE);
}

bool has_failed_files(const SourceDefinition *source) {
    Oid types[1] = {TEXTOID};
    Datum values[1] = {CStringGetTextDatum(source->name)};
    int ret = execute_prepared(
        "SELECT 1 FROM ingest.files WHERE source = $1 AND status = 'failed' LIMIT 1", 1, types,
        values, nullptr, true);
    check_spi_result(ret, SPI_OK_SELECT, "read ingest.files");
    return SPI_processed > 0;
}

void adopt_file_version(const FileRow *row) {
    Oid types[4] = {INT8OID, INT8OID, TIMESTAMPTZOID, BYTEAOID};
    Datum values[4] = {Int64GetDatum(row->file_id), Int64GetDatum(row->size),
                       TimestampTzGetDatum(row->mtime), PointerGetDatum(row->content_sha256)};
    execute_prepared_checked(
        "UPDATE ingest.files SET file_size = $2, file_mtime = $3, content_sha256 = $4, "
        "  change_retried = false WHERE file_id = $1",
        4, types, values, row->content_sha256 == nullptr ? "   n" : nullptr, SPI_OK_UPDATE);
}

void fail_changed_file(int64 file_id, const char *message) {
    Oid types[3] = {INT8OID, TEXTOID, TEXTOID};
    Datum values[3] = {Int64GetDatum(file_id), CStringGetTextDatum(message),
                       CStringGetTextDatum("done")};
    finish_and_notify(
        FINISH_AND_NOTIFY("status = 'failed', error = $2", "file_id = $1 AND status = $3"), 3,
        types, values);
}

void reopen_grown_file(int64 file_id, int64 size, TimestampTz mtime, bytea *sha256) {
    Oid types[5] = {INT8OID, INT8OID, TIMESTAMPTZOID, BYTEAOID, TEXTOID};
    Datum values[5] = {Int64GetDatum(file_id), Int64GetDatum(size), TimestampTzGetDatum(mtime),
                       PointerGetDatum(sha256), CStringGetTextDatum("done")};
    execute_prepared_checked(
        "UPDATE ingest.files SET status = 'loading', file_size = $2, file_mtime = $3, "
        "  content_sha256 = $4, error = NULL, finished_at = NULL "
        "WHERE file_id = $1 AND status = $5",
        5, types, values, nullptr, SPI_OK_UPDATE);
    execute_prepared_checked("DELETE FROM ingest.file_chunks WHERE file_id = $1", 1, types, values,
                             nullptr, SPI_OK_DELETE);
}

void end_truncated_version(int64 file_id, int64 size) {
    Oid types[3] = {INT8OID, INT8OID, TEXTARRAYOID};
    Datum values[3] = {Int64GetDatum(file_id), Int64GetDatum(size), open_statuses()};
    finish_and_notify(
        FINISH_AND_NOTIFY(
            "status = 'done', replay_requested = false, error = pg_catalog.format("
            "  'truncated to %s bytes, below its committed offset %s: this version ends with the "
            "rows committed, and the file from byte 0 is a new version', $2, byte_offset)",
            "file_id = $1 AND (status = ANY ($3) OR status = 'done')"),
        3, types, values);
}

void note_waiting_bytes(int64 file_id) {
    Oid types[1] = {INT8OID};
    Datum values[1] = {Int64GetDatum(file_id)};
    execute_prepared_checked(
        "UPDATE ingest.files SET error = CASE WHEN byte_offset < file_size THEN pg_catalog.format("
        "  '%s bytes after the last line terminator wait for one', file_size - byte_offset) END "
        "WHERE file_id = $1 AND status = 'done' AND (byte_offset < file_size OR error IS NOT NULL)",
        1, types, values, nullptr, SPI_OK_UPDATE);
}

bool request_replace(const FileRow *row) {
    Oid types[3] = {INT8OID, INT8OID, TIMESTAMPTZOID};
    Datum values[3] = {Int64GetDatum(row->file_id), Int64GetDatum(row->size),
                       TimestampTzGetDatum(row->mtime)};
    execute_prepared_checked(
        "UPDATE ingest.files SET status = 'pending', replay_requested = true, error = NULL, "
        "  finished_at = NULL, change_retried = false "
        "WHERE file_id = $1 AND file_size = $2 AND file_mtime = $3 "
        "  AND status IN ('pending', 'loading', 'done', 'failed')",
        3, types, values, nullptr, SPI_OK_UPDATE);
    return SPI_processed == 1;
}

void record_file_mtime(int64 file_id, TimestampTz mtime) {
    Oid types[2] = {INT8OID, TIMESTAMPTZOID};
    Datum values[2] = {Int64GetDatum(file_id), TimestampTzGetDatum(mtime)};
    execute_prepared_checked("UPDATE ingest.files SET file_mtime = $2 WHERE file_id = $1", 2, types,
                             values, nullptr, SPI_OK_UPDATE);
}

namespace {

// find_duplicate when no done file of the source has the content: a done file whose row
// files_retention purged may have had it (ingest.purged_contents). duplicate_of stays NULL.
char *find_purged_duplicate(const SourceDefinition *source, const FileRow *row, bytea *sha256) {
    Oid types[3] = {TEXTOID, BYTEAOID, INT8OID};
    Datum values[3] = {CStringGetTextDatum(source->name), PointerGetDatum(sha256),
                       Int64GetDatum(row->size)};
    int ret = execute_prepared(
        "SELECT file_name FROM ingest.purged_contents "
        "WHERE source = $1 AND content_sha256 = $2 AND file_size = $3",
        3, types, values, nullptr, true);
    check_spi_result(ret, SPI_OK_SELECT, "read ingest.purged_contents");
    if (SPI_processed == 0) return nullptr;
    bool isnull;
    char *original_name = TextDatumGetCString(column(SPI_tuptable->vals[0], 1, &isnull));
    Oid duplicate_types[3] = {INT8OID, TEXTOID, BYTEAOID};
    Datum duplicate_values[3] = {Int64GetDatum(row->file_id), CStringGetTextDatum("pending"),
                                 PointerGetDatum(sha256)};
    finish_and_notify(FINISH_AND_NOTIFY("status = 'duplicate', content_sha256 = $3",
                                        "file_id = $1 AND status = $2"),
                      3, duplicate_types, duplicate_values);
    return original_name;
}

}  // namespace

char *find_duplicate(const SourceDefinition *source, const FileRow *row, bytea *sha256) {
    if (!source->dedupe) return nullptr;
    Datum values[2] = {Int64GetDatum(row->file_id), PointerGetDatum(sha256)};
    // The oldest done file of the source with this content, under whatever name. The checksum
    // and size are parameters, so the cached plan probes files_content_idx on both its columns;
    // joining the file's own row instead, it walked every file of the source (O(files) a file).
    // No ORDER BY, which could lead a plan down files_pkey: the matches are few (a later copy
    // becomes a duplicate, not done), and the oldest is picked here.
    Oid lookup_types[4] = {INT8OID, BYTEAOID, TEXTOID, INT8OID};
    Datum lookup_values[4] = {values[0], values[1], CStringGetTextDatum(source->name),
                              Int64GetDatum(row->size)};
    int ret = execute_prepared(
        "SELECT file_id, file_name FROM ingest.files "
        "WHERE source = $3 AND content_sha256 = $2 AND file_size = $4 AND status = 'done' "
        "  AND file_id <> $1",
        4, lookup_types, lookup_values, nullptr, false);
    if (ret != SPI_OK_SELECT) elog(ERROR, "pg_ingest: could not read ingest.files");
    if (SPI_processed == 0) return find_purged_duplicate(source, row, sha256);
    bool isnull;
    uint64 oldest = 0;
    for (uint64 i = 1; i < SPI_processed; i++)
        if (DatumGetInt64(column(SPI_tuptable->vals[i], 1, &isnull)) <
            DatumGetInt64(column(SPI_tuptable->vals[oldest], 1, &isnull)))
            oldest = i;
    Datum original_id = column(SPI_tuptable->vals[oldest], 1, &isnull);
    char *original_name = TextDatumGetCString(column(SPI_tuptable->vals[oldest], 2, &isnull));
    // The status a parameter too, for the reason open_statuses() gives.
    Oid duplicate_types[4] = {INT8OID, INT8OID, TEXTOID, BYTEAOID};
    Datum duplicate_values[4] = {Int64GetDatum(row->file_id), original_id,
                                 CStringGetTextDatum("pending"), PointerGetDatum(sha256)};
    finish_and_notify(
        FINISH_AND_NOTIFY("status = 'duplicate', duplicate_of = $2, content_sha256 = $4",
                          "file_id = $1 AND status = $3"),
        4, duplicate_types, duplicate_values);
    return original_name;
}

void purge_rejects(const SourceDefinition *source, int retention_minutes) {
    Oid types[2] = {TEXTOID, INT4OID};
    Datum values[2] = {CStringGetTextDatum(source->name), Int32GetDatum(retention_minutes)};
    execute_prepared_checked(
        "DELETE FROM ingest.rejects WHERE source = $1 "
        "AND rejected_at < pg_catalog.now() - pg_catalog.make_interval(mins => $2)",
        2, types, values, nullptr, SPI_OK_DELETE);
}

void fail_source(int32 source_id, const char *message) {
    Oid types[2] = {INT4OID, TEXTOID};
    Datum values[2] = {Int32GetDatum(source_id), CStringGetTextDatum(message)};
    execute_prepared_checked("UPDATE ingest.sources SET failed_error = $2 WHERE source_id = $1", 2,
                             types, values, nullptr, SPI_OK_UPDATE);
}

void for_each_known_file(const SourceDefinition *source, KnownFileFn fn, void *context) {
    Oid types[1] = {TEXTOID};
    Datum values[1] = {CStringGetTextDatum(source->name)};
    int ret = execute_prepared(
        "SELECT DISTINCT ON (file_name, file_name_bytes) file_name, file_size, file_mtime, "
        "  file_inode, file_name_bytes "
        "FROM ingest.files WHERE source = $1 ORDER BY file_name, file_name_bytes, file_id DESC",
        1, types, values, nullptr, true);
    if (ret != SPI_OK_SELECT) elog(ERROR, "pg_ingest: could not read ingest.files");
    for (uint64 i = 0; i < SPI_processed; i++) {
        HeapTuple tuple = SPI_tuptable->vals[i];
        bool isnull;
        char *name = disk_name(tuple, 1, 5, CurrentMemoryContext);
        fn(name, DatumGetInt64(column(tuple, 2, &isnull)),
           DatumGetTimestampTz(column(tuple, 3, &isnull)), DatumGetInt64(column(tuple, 4, &isnull)),
           context);
    }
}

}  // namespace pg_ingest
