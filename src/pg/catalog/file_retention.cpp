#include "pg/catalog/file_retention.hpp"

#include "pg/support/prepared_statement.hpp"

extern "C" {
#include <sys/stat.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
}

namespace pg_ingest {

namespace {

Datum column(HeapTuple tuple, int number, bool *isnull) {
    return SPI_getbinval(tuple, SPI_tuptable->tupdesc, number, isnull);
}

// The last file_id of the next kPurgeStepFiles rows after `after` (of every source: a walk of
// files_pkey whose length is bounded whatever the share of this source's rows), or -1 at the end.
int64 step_end(int64 after) {
    Oid types[2] = {INT8OID, INT4OID};
    Datum values[2] = {Int64GetDatum(after), Int32GetDatum(kPurgeStepFiles)};
    int ret = execute_prepared(
        "SELECT max(file_id) FROM (SELECT file_id FROM ingest.files WHERE file_id > $1 "
        "  ORDER BY file_id LIMIT $2) step",
        2, types, values, nullptr, true);
    check_spi_result(ret, SPI_OK_SELECT, "read ingest.files");
    bool isnull;
    Datum last = column(SPI_tuptable->vals[0], 1, &isnull);
    return isnull ? -1 : DatumGetInt64(last);
}

// The exact name in the directory: file_name_bytes when set (see file_name_text.hpp).
const char *disk_name_of(HeapTuple tuple) {
    bool isnull;
    Datum bytes = column(tuple, 3, &isnull);
    if (isnull) return TextDatumGetCString(column(tuple, 2, &isnull));
    bytea *name = DatumGetByteaPP(bytes);
    return pnstrdup(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));
}

bool still_in_directory(const SourceDefinition *source, const char *name) {
    struct stat st;
    return lstat(psprintf("%s/%s", source->directory, name), &st) == 0 || errno != ENOENT;
}

// The expired files of the source in (after, last] that are no longer in the directory, and its
// expired replaced versions, which are never the version the worker knows a name by.
ArrayType *expired_gone_files(const SourceDefinition *source, int retention_seconds, int64 after,
                              int64 last, int *count) {
    Oid types[4] = {INT8OID, INT8OID, TEXTOID, FLOAT8OID};
    Datum values[4] = {Int64GetDatum(after), Int64GetDatum(last), CStringGetTextDatum(source->name),
                       Float8GetDatum(retention_seconds)};
    int ret = execute_prepared(
        "SELECT file_id, file_name, file_name_bytes, status = 'replaced' FROM ingest.files "
        "WHERE file_id > $1 AND file_id <= $2 AND source = $3 "
        "  AND status IN ('done', 'duplicate', 'skipped', 'replaced') "
        "  AND coalesce(finished_at, discovered_at) < "
        "      pg_catalog.now() - pg_catalog.make_interval(secs => $4)",
        4, types, values, nullptr, true);
    check_spi_result(ret, SPI_OK_SELECT, "read ingest.files");
    auto *ids = static_cast<Datum *>(palloc(sizeof(Datum) * (SPI_processed + 1)));
    *count = 0;
    for (uint64 i = 0; i < SPI_processed; i++) {
        HeapTuple tuple = SPI_tuptable->vals[i];
        bool isnull;
        bool replaced = DatumGetBool(column(tuple, 4, &isnull));
        if (!replaced && still_in_directory(source, disk_name_of(tuple))) continue;
        ids[(*count)++] = column(tuple, 1, &isnull);
    }
    return construct_array(ids, *count, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE);
}

// Deletes the files, keeping each purged done file's content for dedupe (the first name wins).
// The status is checked again: replay_file or retry_file may have made one pending since it was
// read (the DELETE then sees the new row version and leaves it).
int64 delete_files(ArrayType *ids) {
    Oid types[1] = {INT8ARRAYOID};
    Datum values[1] = {PointerGetDatum(ids)};
    int ret = execute_prepared(
        "WITH gone AS (DELETE FROM ingest.files WHERE file_id = ANY ($1) "
        "  AND status IN ('done', 'duplicate', 'skipped', 'replaced') "
        "  RETURNING source, status, content_sha256, file_size, file_name, file_id), "
        "kept AS (INSERT INTO ingest.purged_contents (source, content_sha256, file_size, "
        "  file_name) "
        "  SELECT DISTINCT ON (source, content_sha256, file_size) "
        "    source, content_sha256, file_size, file_name FROM gone "
        "  WHERE status = 'done' AND content_sha256 IS NOT NULL "
        "  ORDER BY source, content_sha256, file_size, file_id "
        "  ON CONFLICT DO NOTHING) "
        "SELECT count(*) FROM gone",
        1, types, values, nullptr, false);
    check_spi_result(ret, SPI_OK_SELECT, "purge ingest.files");
    bool isnull;
    return DatumGetInt64(column(SPI_tuptable->vals[0], 1, &isnull));
}

}  // namespace

PurgeProgress purge_step(const SourceDefinition *source, int retention_seconds, PurgePass *pass) {
    int64 last = step_end(pass->after_file_id);
    if (last < 0) return PurgeProgress::pass_done;
    int count = 0;
    ArrayType *ids =
        expired_gone_files(source, retention_seconds, pass->after_file_id, last, &count);
    if (count > 0) pass->purged += delete_files(ids);
    pass->after_file_id = last;
    return PurgeProgress::more_to_do;
}

}  // namespace pg_ingest
