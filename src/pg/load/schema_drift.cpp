#include "pg/load/schema_drift.hpp"

#include "pg/support/prepared_statement.hpp"
#include "pg/support/run_as_owner.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
}

namespace pg_ingest {

namespace {

bool target_has_column(Oid target, const char *name) {
    Oid types[2] = {OIDOID, TEXTOID};
    Datum values[2] = {ObjectIdGetDatum(target), CStringGetTextDatum(name)};
    int ret = execute_prepared(
        "SELECT FROM pg_catalog.pg_attribute WHERE attrelid = $1 AND attname = $2::name "
        "AND attnum > 0 AND NOT attisdropped",
        2, types, values, nullptr, true);
    if (ret != SPI_OK_SELECT) elog(ERROR, "pg_ingest: could not read the target's columns");
    return SPI_processed > 0;
}

}  // namespace

void add_new_columns(const SourceDefinition *source, const char *const *header_names,
                     int header_count) {
    if (source->on_new_columns != OnNewColumns::Add || header_names == nullptr) return;
    bool added = false;
    for (int f = 0; f < header_count; f++) {
        if (target_has_column(source->target, header_names[f])) continue;
        char *sql =
            psprintf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s text",
                     qualified_target_name(source->target), quote_identifier(header_names[f]));
        int ret = run_as_owner(source->owner, [&] { return SPI_execute(sql, false, 0); });
        check_spi_result(ret, SPI_OK_UTILITY, "add a column");
        added = true;
        ereport(LOG, (errmsg("pg_ingest source \"%s\": added column %s text to table %s for the "
                             "header of a new file",
                             source->name, quote_identifier(header_names[f]),
                             qualified_target_name(source->target))));
    }
    // The inserters read the target's columns next, with read-only SPI in the active snapshot:
    // it must see the columns just added.
    if (!added) return;
    CommandCounterIncrement();
    UpdateActiveSnapshotCommandId();
}

void note_ignored_columns(const SourceDefinition *source, const FileRow *file,
                          const BatchInserter *inserter) {
    if (source->on_new_columns != OnNewColumns::Ignore || inserter->new_column_count == 0) return;
    int count = inserter->new_column_count;
    auto *names = static_cast<Datum *>(palloc(sizeof(Datum) * count));
    for (int i = 0; i < count; i++) names[i] = CStringGetTextDatum(inserter->new_columns[i]);
    Oid types[2] = {INT8OID, TEXTARRAYOID};
    Datum values[2] = {
        Int64GetDatum(file->file_id),
        PointerGetDatum(construct_array(names, count, TEXTOID, -1, false, TYPALIGN_INT))};
    execute_prepared_checked("UPDATE ingest.files SET ignored_columns = $2 WHERE file_id = $1", 2,
                             types, values, nullptr, SPI_OK_UPDATE);
}

}  // namespace pg_ingest
