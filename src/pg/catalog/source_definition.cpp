#include "pg/catalog/source_definition.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
}

namespace pg_ingest {

namespace {

char *column_text(int column) {
    char *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, column);
    return value == nullptr ? nullptr : MemoryContextStrdup(TopMemoryContext, value);
}

Datum column_datum(int column, bool *isnull = nullptr) {
    bool null_value;
    Datum value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, column, &null_value);
    if (isnull != nullptr) *isnull = null_value;
    return value;
}

}  // namespace

OnSuccess on_success_named(const char *name) {
    return strcmp(name, "delete") == 0 ? OnSuccess::Delete
           : strcmp(name, "move") == 0 ? OnSuccess::Move
                                       : OnSuccess::Keep;
}

// Every option is in the source's options (the defaults are merged in by create_source,
// alter_source and the update scripts: ingest._default_options() is their one source). A NULL
// ready_marker (no markers) reads as the empty suffix.
SourceDefinition *read_source_definition(int32 source_id) {
    Oid argtypes[1] = {INT4OID};
    Datum args[1] = {Int32GetDatum(source_id)};
    int ret = SPI_execute_with_args(
        "SELECT name, directory, target::oid, pattern, batch_size, owner::oid, "
        "  enabled AND failed_error IS NULL, options->>'delimiter', options->>'quote', "
        "  (options->>'header')::boolean, options->>'null', "
        "  pg_catalog.pg_char_to_encoding(options->>'encoding'), options->>'on_success', "
        "  options->>'archive_directory', (options->>'min_age_ms')::integer, "
        "  (options->>'max_field_bytes')::integer, "
        "  (options->>'max_rejects_per_file')::bigint, "
        "  coalesce(options->>'ready_marker', ''), (options->>'dedupe')::boolean, "
        "  (options->>'workers')::integer, options->>'file_column', options->>'line_column', "
        "  options->>'transform', options->>'on_new_columns', options->>'rescue_column', "
        "  (options->>'split_bytes')::integer, options->>'on_file_change' "
        "FROM ingest.sources WHERE source_id = $1",
        1, argtypes, args, nullptr, true, 1);
    if (ret != SPI_OK_SELECT || SPI_processed == 0) return nullptr;

    auto *source = static_cast<SourceDefinition *>(
        MemoryContextAllocZero(TopMemoryContext, sizeof(SourceDefinition)));
    source->source_id = source_id;
    source->name = column_text(1);
    source->directory = column_text(2);
    source->target = DatumGetObjectId(column_datum(3));
    source->pattern = column_text(4);
    source->batch_size = DatumGetInt32(column_datum(5));
    source->owner = DatumGetObjectId(column_datum(6));
    source->runnable = DatumGetBool(column_datum(7));
    source->delimiter = column_text(8)[0];
    source->quote = column_text(9)[0];
    source->header = DatumGetBool(column_datum(10));
    source->null_string = column_text(11);
    source->encoding = DatumGetInt32(column_datum(12));
    source->on_success = on_success_named(column_text(13));
    source->archive_directory = column_text(14);
    source->min_age_ms = DatumGetInt32(column_datum(15));
    source->max_field_bytes = DatumGetInt32(column_datum(16));
    bool unlimited_rejects;
    source->max_rejects_per_file = DatumGetInt64(column_datum(17, &unlimited_rejects));
    source->limits_rejects = !unlimited_rejects;
    source->ready_marker = column_text(18);
    source->dedupe = DatumGetBool(column_datum(19));
    source->workers = DatumGetInt32(column_datum(20));
    source->file_column = column_text(21);
    source->line_column = column_text(22);
    source->transform = column_text(23);
    char *on_new_columns = column_text(24);
    source->on_new_columns = strcmp(on_new_columns, "ignore") == 0   ? OnNewColumns::Ignore
                             : strcmp(on_new_columns, "rescue") == 0 ? OnNewColumns::Rescue
                             : strcmp(on_new_columns, "add") == 0    ? OnNewColumns::Add
                                                                     : OnNewColumns::Fail;
    source->rescue_column = column_text(25);
    source->split_bytes = DatumGetInt32(column_datum(26));
    char *on_file_change = column_text(27);
    source->on_file_change = strcmp(on_file_change, "append") == 0    ? FileChangeMode::append
                             : strcmp(on_file_change, "replace") == 0 ? FileChangeMode::replace
                                                                      : FileChangeMode::fail;
    return source;
}

}  // namespace pg_ingest
