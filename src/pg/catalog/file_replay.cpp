#include "pg/catalog/file_replay.hpp"

#include "pg/insert/batch_inserter.hpp"
#include "pg/support/prepared_statement.hpp"
#include "pg/support/run_as_owner.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
}

namespace pg_ingest {

namespace {

void delete_target_rows(const SourceDefinition *source, const FileRow *file, Datum file_ids) {
    char *sql =
        psprintf("DELETE FROM %s WHERE %s = ANY ($1)", qualified_target_name(source->target),
                 quote_identifier(source->file_column));
    Oid types[1] = {INT8ARRAYOID};
    Datum values[1] = {file_ids};
    int ret = run_as_owner(source->owner, [&] {
        return SPI_execute_with_args(sql, 1, types, values, nullptr, false, 0);
    });
    check_spi_result(ret, SPI_OK_DELETE,
                     psprintf("deleting the rows of file \"%s\"", file->file_name));
    elog(DEBUG1, "pg_ingest source \"%s\": replaying file \"%s\": deleted %llu rows", source->name,
         file->file_name, static_cast<unsigned long long>(SPI_processed));
}

void execute_catalog(const char *sql, Oid type, Datum value, int expected) {
    Oid types[1] = {type};
    Datum values[1] = {value};
    execute_prepared_checked(sql, 1, types, values, nullptr, expected);
}

// on_file_change = replace: the earlier versions of the file's name whose rows may still be in
// the target become 'replaced' by this one (announced as their final status); returns their ids
// with the file's own, whose rows this load replaces. Without replace: the file's own id.
Datum replaced_file_ids(const SourceDefinition *source, const FileRow *file) {
    Datum own = Int64GetDatum(file->file_id);
    if (source->on_file_change != FileChangeMode::replace)
        return PointerGetDatum(
            construct_array(&own, 1, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
    Oid types[1] = {INT8OID};
    Datum values[1] = {own};
    int ret = execute_prepared(
        "WITH replaced AS (UPDATE ingest.files o SET status = 'replaced', replaced_by = n.file_id, "
        "    finished_at = coalesce(o.finished_at, pg_catalog.now()) "
        "  FROM ingest.files n WHERE n.file_id = $1 AND o.source = n.source "
        "    AND o.file_name = n.file_name "
        "    AND o.file_name_bytes IS NOT DISTINCT FROM n.file_name_bytes "
        "    AND o.file_id < n.file_id AND o.status NOT IN ('replaced', 'duplicate') "
        "  RETURNING o) "
        "SELECT pg_catalog.array_append(pg_catalog.array_agg((o).file_id), $1) "
        "FROM replaced, LATERAL ingest._notify_finished(o) announced",
        1, types, values, nullptr, false);
    check_spi_result(ret, SPI_OK_SELECT, "mark the earlier versions of a file replaced");
    bool isnull;
    Datum ids = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    return PointerGetDatum(DatumGetArrayTypePCopy(ids));
}

}  // namespace

void forget_earlier_load(const SourceDefinition *source, const FileRow *file) {
    // The option may have been unset since the replay was asked for.
    if (source->file_column == nullptr)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("source \"%s\" has no file_column: file \"%s\" cannot be replayed",
                               source->name, file->file_name)));
    // First the file's row, whose lock every commit of its chunks takes first: a chunk's batch
    // that committed before is seen by the deletes below; one after finds the file no longer open.
    execute_catalog(
        "UPDATE ingest.files SET status = 'loading', byte_offset = 0, line_number = 0, "
        "  rows_loaded = 0, rows_rejected = 0, error = NULL, started_at = pg_catalog.now(), "
        "  finished_at = NULL "
        "WHERE file_id = $1",
        INT8OID, Int64GetDatum(file->file_id), SPI_OK_UPDATE);
    Datum ids = replaced_file_ids(source, file);
    delete_target_rows(source, file, ids);
    execute_catalog("DELETE FROM ingest.rejects WHERE file_id = ANY ($1)", INT8ARRAYOID, ids,
                    SPI_OK_DELETE);
    // A replay loads the file whole, in its one transaction: its chunks are history.
    execute_catalog("DELETE FROM ingest.file_chunks WHERE file_id = ANY ($1)", INT8ARRAYOID, ids,
                    SPI_OK_DELETE);
}

}  // namespace pg_ingest
