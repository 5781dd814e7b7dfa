#include "pg/catalog/file_replay.hpp"

#include "pg/insert/batch_inserter.hpp"
#include "pg/support/prepared_statement.hpp"
#include "pg/support/run_as_owner.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
}

namespace pg_ingest {

namespace {

void delete_target_rows(const SourceDefinition *source, const FileRow *file) {
    char *sql = psprintf("DELETE FROM %s WHERE %s = $1", qualified_target_name(source->target),
                         quote_identifier(source->file_column));
    Oid types[1] = {INT8OID};
    Datum values[1] = {Int64GetDatum(file->file_id)};
    int ret = run_as_owner(source->owner, [&] {
        return SPI_execute_with_args(sql, 1, types, values, nullptr, false, 0);
    });
    check_spi_result(ret, SPI_OK_DELETE,
                     psprintf("deleting the rows of file \"%s\"", file->file_name));
    elog(DEBUG1, "pg_ingest source \"%s\": replaying file \"%s\": deleted %llu rows", source->name,
         file->file_name, static_cast<unsigned long long>(SPI_processed));
}

void execute_catalog(const char *sql, const FileRow *file, int expected) {
    Oid types[1] = {INT8OID};
    Datum values[1] = {Int64GetDatum(file->file_id)};
    execute_prepared_checked(sql, 1, types, values, nullptr, expected);
}

}  // namespace

void forget_earlier_load(const SourceDefinition *source, const FileRow *file) {
    // The option may have been unset since the replay was asked for.
    if (source->file_column == nullptr)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("source \"%s\" has no file_column: file \"%s\" cannot be replayed",
                               source->name, file->file_name)));
    delete_target_rows(source, file);
    execute_catalog("DELETE FROM ingest.rejects WHERE file_id = $1", file, SPI_OK_DELETE);
    // A replay loads the file whole, in its one transaction: its chunks are history.
    execute_catalog("DELETE FROM ingest.file_chunks WHERE file_id = $1", file, SPI_OK_DELETE);
    execute_catalog(
        "UPDATE ingest.files SET status = 'loading', byte_offset = 0, line_number = 0, "
        "  rows_loaded = 0, rows_rejected = 0, error = NULL, started_at = pg_catalog.now(), "
        "  finished_at = NULL "
        "WHERE file_id = $1",
        file, SPI_OK_UPDATE);
}

}  // namespace pg_ingest
