#include "pg/insert/batch_inserter.hpp"

#include "core/csv/csv_reader.hpp"
#include "pg/insert/citus_target.hpp"
#include "pg/support/prepared_statement.hpp"
#include "pg/support/run_as_owner.hpp"
#include "pg/support/subtransaction.hpp"
#include "pg/insert/statement_failure.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
}

namespace pg_ingest {

namespace {

struct TargetColumn {
    char *name;
    char *type;
};

int read_target_columns(Oid target, TargetColumn **columns) {
    Oid types[1] = {OIDOID};
    Datum values[1] = {ObjectIdGetDatum(target)};
    int ret = SPI_execute_with_args(
        "SELECT attname::text, pg_catalog.format_type(atttypid, atttypmod) "
        "FROM pg_catalog.pg_attribute WHERE attrelid = $1 AND attnum > 0 "
        "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
        1, types, values, nullptr, true, 0);
    if (ret != SPI_OK_SELECT) elog(ERROR, "pg_ingest: could not read the target's columns");
    auto *result = static_cast<TargetColumn *>(palloc(sizeof(TargetColumn) * (SPI_processed + 1)));
    for (uint64 i = 0; i < SPI_processed; i++) {
        result[i].name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
        result[i].type = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
    }
    *columns = result;
    return static_cast<int>(SPI_processed);
}

bool has_foreign_tables(Oid target) {
    return target_query_is_true(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_partition_tree($1) t "
        "JOIN pg_catalog.pg_class c ON c.oid = t.relid WHERE c.relkind = 'f')",
        target);
}

// INSERT INTO target (c, ...) SELECT u.f1::type, ... FROM ROWS FROM (unnest($1::text[]), ...) u(f1,
// ...): one statement a batch, every value through the column type's input function.
// With lineage, the source's file_column takes the constant $N::bigint after the text arrays, and
// its line_column one more unnest, of a bigint[] of line numbers. With rescued columns, the
// rescue_column takes jsonb_build_object('name', u.r1, ...) over one more text[] per column (a
// NULL field is kept as JSON null). With a transform, the rows go into `batch` instead.
SPIPlanPtr prepare_insert(const SourceDefinition *source, const BatchInserter *inserter,
                          TargetColumn *columns, const int *column_index) {
    int count = inserter->column_count;
    bool file_column = source->file_column != nullptr;
    bool line_column = source->line_column != nullptr;
    int rescued = inserter->rescues_new_columns ? inserter->new_column_count : 0;
    int file_param = count + 1;
    int line_param = count + (file_column ? 2 : 1);
    int rescue_param = line_param + (line_column ? 1 : 0);
    StringInfoData sql;
    initStringInfo(&sql);
    appendStringInfo(&sql, "INSERT INTO %s (", load_relation_name(source));
    for (int i = 0; i < count; i++)
        appendStringInfo(&sql, "%s%s", i ? ", " : "",
                         quote_identifier(columns[column_index[i]].name));
    if (file_column) appendStringInfo(&sql, ", %s", quote_identifier(source->file_column));
    if (line_column) appendStringInfo(&sql, ", %s", quote_identifier(source->line_column));
    if (rescued > 0) appendStringInfo(&sql, ", %s", quote_identifier(source->rescue_column));
    appendStringInfoString(&sql, ") SELECT ");
    for (int i = 0; i < count; i++)
        appendStringInfo(&sql, "%su.f%d::%s", i ? ", " : "", i + 1, columns[column_index[i]].type);
    if (file_column) appendStringInfo(&sql, ", $%d::pg_catalog.int8", file_param);
    if (line_column) appendStringInfoString(&sql, ", u.line");
    if (rescued > 0) {
        appendStringInfoString(&sql, ", pg_catalog.jsonb_build_object(");
        for (int r = 0; r < rescued; r++)
            appendStringInfo(&sql, "%s%s, u.r%d", r ? ", " : "",
                             quote_literal_cstr(inserter->new_columns[r]), r + 1);
        appendStringInfoChar(&sql, ')');
    }
    appendStringInfoString(&sql, " FROM ROWS FROM (");
    for (int i = 0; i < count; i++)
        appendStringInfo(&sql, "%spg_catalog.unnest($%d::pg_catalog.text[])", i ? ", " : "", i + 1);
    if (line_column)
        appendStringInfo(&sql, ", pg_catalog.unnest($%d::pg_catalog.int8[])", line_param);
    for (int r = 0; r < rescued; r++)
        appendStringInfo(&sql, ", pg_catalog.unnest($%d::pg_catalog.text[])", rescue_param + r);
    appendStringInfoString(&sql, ") AS u(");
    for (int i = 0; i < count; i++) appendStringInfo(&sql, "%sf%d", i ? ", " : "", i + 1);
    if (line_column) appendStringInfoString(&sql, ", line");
    for (int r = 0; r < rescued; r++) appendStringInfo(&sql, ", r%d", r + 1);
    appendStringInfoChar(&sql, ')');

    int nargs = rescue_param - 1 + rescued;
    Oid *types = static_cast<Oid *>(palloc(sizeof(Oid) * nargs));
    for (int i = 0; i < count; i++) types[i] = TEXTARRAYOID;
    if (file_column) types[file_param - 1] = INT8OID;
    if (line_column) types[line_param - 1] = INT8ARRAYOID;
    for (int r = 0; r < rescued; r++) types[rescue_param - 1 + r] = TEXTARRAYOID;
    return prepare_kept_plan(sql.data, nargs, types);
}

Datum field_text(const BatchInserter *inserter, const CsvField &field) {
    if (inserter->encoding == GetDatabaseEncoding())
        return PointerGetDatum(cstring_to_text_with_len(field.data, static_cast<int>(field.size)));
    char *converted =
        pg_any_to_server(field.data, static_cast<int>(field.size), inserter->encoding);
    return PointerGetDatum(cstring_to_text(converted));
}

// The text[] of one field across the rows.
Datum field_array(const BatchInserter *inserter, const PendingRow *rows, int count, int field,
                  Datum *elements, bool *nulls) {
    int dims[1] = {count};
    int lbs[1] = {1};
    for (int r = 0; r < count; r++) {
        const CsvField &value = rows[r].fields[field];
        nulls[r] = value.is_null;
        elements[r] = value.is_null ? (Datum)0 : field_text(inserter, value);
    }
    return PointerGetDatum(
        construct_md_array(elements, nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
}

void execute_insert(BatchInserter *inserter, PendingRow *rows, int count) {
    int columns = inserter->column_count;
    int rescued = inserter->rescues_new_columns ? inserter->new_column_count : 0;
    int nargs = columns + (inserter->fills_file_column ? 1 : 0) +
                (inserter->fills_line_column ? 1 : 0) + rescued;
    Datum *params = static_cast<Datum *>(palloc(sizeof(Datum) * nargs));
    char *param_nulls = static_cast<char *>(palloc(nargs + 1));
    memset(param_nulls, ' ', nargs);
    Datum *elements = static_cast<Datum *>(palloc(sizeof(Datum) * count));
    bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * count));
    for (int c = 0; c < columns; c++)
        params[c] =
            field_array(inserter, rows, count, inserter->field_for_column[c], elements, nulls);
    int next = columns;
    if (inserter->fills_file_column) params[next++] = Int64GetDatum(inserter->file_id);
    if (inserter->fills_line_column) {
        for (int r = 0; r < count; r++) elements[r] = Int64GetDatum(rows[r].line_number);
        params[next++] = PointerGetDatum(construct_array(elements, count, INT8OID, sizeof(int64),
                                                         FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
    }
    for (int r = 0; r < rescued; r++)
        params[next++] =
            field_array(inserter, rows, count, inserter->new_column_fields[r], elements, nulls);
    if (inserter->transform != nullptr) empty_transform_batch(inserter->transform);
    int ret = run_as_owner(inserter->owner, [&] {
        return SPI_execute_plan(inserter->plan, params, param_nulls, false, 0);
    });
    check_spi_result(ret, SPI_OK_INSERT, "insert");
    if (inserter->transform != nullptr) run_transform(inserter->transform);
}

// A failure no row caused fails the file instead of being bisected.
bool not_the_rows(const BatchInserter *inserter, const ErrorData *error) {
    return inserter->transform != nullptr ? transform_failure_is_not_the_rows(error)
                                          : failure_is_not_the_rows(error);
}

struct InsertAttempt {
    BatchInserter *inserter;
    PendingRow *rows;
    int count;
    bool keep;
};

bool attempt_insert(void *arg) {
    auto *attempt = static_cast<InsertAttempt *>(arg);
    execute_insert(attempt->inserter, attempt->rows, attempt->count);
    return attempt->keep;
}

// Runs the insert in a subtransaction; keeps it or rolls it back. Returns the error, or nullptr.
ErrorData *try_insert(BatchInserter *inserter, PendingRow *rows, int count, bool keep) {
    InsertAttempt attempt = {inserter, rows, count, keep};
    return run_in_subtransaction(attempt_insert, &attempt);
}

// Finds the refused rows of rows[0..count), given that inserting them all failed with error.
// Halves are inserted in file order and kept when they succeed, so a row that conflicts with an
// earlier row of the same batch (a repeated key) is the one refused. errors[i] is set for each
// refused row.
void isolate(BatchInserter *inserter, PendingRow *rows, int count, ErrorData *error,
             ErrorData **errors) {
    if (count == 1) {
        errors[0] = error;
        return;
    }
    int half = count / 2;
    CHECK_FOR_INTERRUPTS();
    ErrorData *left = try_insert(inserter, rows, half, true);
    if (left != nullptr && not_the_rows(inserter, left)) ReThrowError(left);
    if (left != nullptr) isolate(inserter, rows, half, left, errors);
    ErrorData *right = try_insert(inserter, rows + half, count - half, true);
    if (right != nullptr && not_the_rows(inserter, right)) ReThrowError(right);
    if (right != nullptr) isolate(inserter, rows + half, count - half, right, errors + half);
}

// Runs the isolation inside one subtransaction that is then rolled back: the kept halves'
// subtransactions go with it, so the batch keeps no more than one committed subtransaction.
void find_refused(BatchInserter *inserter, PendingRow *rows, int count, ErrorData *error,
                  ErrorData **errors) {
    MemoryContext context = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(context);
    isolate(inserter, rows, count, error, errors);
    RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(context);
    CurrentResourceOwner = owner;
}

// A lineage column must still be a column the statement can write (the target may have been
// altered since the source was defined); it is marked in `lineage`.
void check_lineage_column(const SourceDefinition *source, const char *option, const char *name,
                          const TargetColumn *columns, int count, bool *lineage) {
    if (name == nullptr) return;
    for (int c = 0; c < count; c++) {
        if (strcmp(columns[c].name, name) != 0) continue;
        if (strcmp(columns[c].type, "bigint") != 0)
            ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                            errmsg("column %s of table %s (option %s) is %s, not bigint",
                                   quote_identifier(name), qualified_target_name(source->target),
                                   option, columns[c].type)));
        lineage[c] = true;
        return;
    }
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                    errmsg("table %s has no column %s to write (option %s)",
                           qualified_target_name(source->target), quote_identifier(name), option)));
}

}  // namespace

char *qualified_target_name(Oid target) {
    char *relname = get_rel_name(target);
    if (relname == nullptr)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("target table with OID %u no longer exists", target)));
    return quote_qualified_identifier(get_namespace_name(get_rel_namespace(target)), relname);
}

namespace {

// A header field that names no target column: per on_new_columns it fails the file, or is noted
// in the inserter to be left out (ignore) or kept in the rescue_column (rescue). `add` added
// such columns before the inserter was prepared (schema_drift.hpp): one still missing fails.
void take_new_column(const SourceDefinition *source, BatchInserter *inserter, const char *name,
                     int field, StringInfo unknown) {
    bool keeps = source->on_new_columns == OnNewColumns::Ignore ||
                 source->on_new_columns == OnNewColumns::Rescue;
    if (!keeps) {
        appendStringInfo(unknown, "%s%s", unknown->len ? ", " : "", quote_identifier(name));
        return;
    }
    int n = inserter->new_column_count++;
    inserter->new_columns[n] = MemoryContextStrdup(GetMemoryChunkContext(inserter), name);
    inserter->new_column_fields[n] = field;
}

// With a header: each field goes to the column it names, matched by name; a name the source
// fills with lineage or rescue, or a name given twice, fails the file. Returns the columns'
// indexes in target order of the mapped fields.
int *map_header(const SourceDefinition *source, BatchInserter *inserter, const char *file_name,
                const char *const *header_names, int header_count, const TargetColumn *columns,
                int target_count, const bool *filled) {
    MemoryContext context = GetMemoryChunkContext(inserter);
    inserter->field_count = header_count;
    auto *column_index = static_cast<int *>(palloc(sizeof(int) * (header_count + 1)));
    inserter->field_for_column =
        static_cast<int *>(MemoryContextAlloc(context, sizeof(int) * (header_count + 1)));
    inserter->new_columns =
        static_cast<char **>(MemoryContextAlloc(context, sizeof(char *) * (header_count + 1)));
    inserter->new_column_fields =
        static_cast<int *>(MemoryContextAlloc(context, sizeof(int) * (header_count + 1)));
    inserter->rescues_new_columns = source->on_new_columns == OnNewColumns::Rescue;
    StringInfoData unknown;
    initStringInfo(&unknown);
    int mapped = 0;
    for (int f = 0; f < header_count; f++) {
        int column = -1;
        for (int c = 0; c < target_count; c++)
            if (strcmp(header_names[f], columns[c].name) == 0) column = c;
        if (column >= 0 && filled[column])
            ereport(ERROR, (errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
                            errmsg("header of file \"%s\" names column %s, which the source fills "
                                   "with %s",
                                   file_name, quote_identifier(header_names[f]),
                                   source->rescue_column != nullptr &&
                                           strcmp(header_names[f], source->rescue_column) == 0
                                       ? "rescued columns"
                                       : "lineage")));
        for (int g = 0; g < mapped && column >= 0; g++)
            if (column_index[g] == column)
                ereport(ERROR, (errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
                                errmsg("header of file \"%s\" names column %s twice", file_name,
                                       quote_identifier(header_names[f]))));
        if (column < 0) {
            take_new_column(source, inserter, header_names[f], f, &unknown);
            continue;
        }
        inserter->field_for_column[mapped] = f;
        column_index[mapped++] = column;
    }
    if (unknown.len > 0)
        ereport(ERROR,
                (errcode(ERRCODE_UNDEFINED_COLUMN),
                 errmsg("header of file \"%s\" names columns that table %s does not "
                        "have: %s",
                        file_name, qualified_target_name(source->target), unknown.data),
                 errhint("Add the columns, or set option on_new_columns to ignore, rescue or "
                         "add.")));
    inserter->column_count = mapped;
    return column_index;
}

// Without a header: fields fill the target's columns in order, the columns the source fills
// itself (lineage, rescue) left out.
int *map_positions(BatchInserter *inserter, int target_count, const bool *filled) {
    MemoryContext context = GetMemoryChunkContext(inserter);
    int data_columns = 0;
    auto *column_index = static_cast<int *>(palloc(sizeof(int) * (target_count + 1)));
    for (int c = 0; c < target_count; c++)
        if (!filled[c]) column_index[data_columns++] = c;
    inserter->field_count = data_columns;
    inserter->column_count = data_columns;
    inserter->field_for_column =
        static_cast<int *>(MemoryContextAlloc(context, sizeof(int) * (data_columns + 1)));
    for (int i = 0; i < data_columns; i++) inserter->field_for_column[i] = i;
    return column_index;
}

// The rescue_column must still be a jsonb column (the target may have been altered since the
// source was defined); it is marked in `filled`.
void check_rescue_column(const SourceDefinition *source, const TargetColumn *columns, int count,
                         bool *filled) {
    if (source->on_new_columns != OnNewColumns::Rescue) return;
    for (int c = 0; c < count; c++) {
        if (strcmp(columns[c].name, source->rescue_column) != 0) continue;
        if (strcmp(columns[c].type, "jsonb") != 0)
            ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                            errmsg("column %s of table %s (option rescue_column) is %s, not jsonb",
                                   quote_identifier(source->rescue_column),
                                   qualified_target_name(source->target), columns[c].type)));
        filled[c] = true;
        return;
    }
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                    errmsg("table %s has no column %s to write (option rescue_column)",
                           qualified_target_name(source->target),
                           quote_identifier(source->rescue_column))));
}

}  // namespace

BatchInserter *prepare_batch_inserter(const SourceDefinition *source, const char *file_name,
                                      const char *const *header_names, int header_count,
                                      MemoryContext context) {
    // SPI calls leave SPI's own context current: what outlives them is allocated in `context`.
    TargetColumn *columns;
    int target_count = read_target_columns(source->target, &columns);
    auto *inserter =
        static_cast<BatchInserter *>(MemoryContextAllocZero(context, sizeof(BatchInserter)));
    inserter->owner = source->owner;
    inserter->encoding = source->encoding;
    inserter->commits_on_other_servers =
        has_foreign_tables(source->target) || is_citus_table(source->target);
    inserter->fills_file_column = source->file_column != nullptr;
    inserter->fills_line_column = source->line_column != nullptr;
    bool *filled = static_cast<bool *>(palloc0(sizeof(bool) * (target_count + 1)));
    check_lineage_column(source, "file_column", source->file_column, columns, target_count, filled);
    check_lineage_column(source, "line_column", source->line_column, columns, target_count, filled);
    check_rescue_column(source, columns, target_count, filled);
    int *column_index = header_names == nullptr
                            ? map_positions(inserter, target_count, filled)
                            : map_header(source, inserter, file_name, header_names, header_count,
                                         columns, target_count, filled);
    if (inserter->column_count == 0)
        ereport(ERROR, (errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
                        errmsg("file \"%s\" maps no column of table %s", file_name,
                               qualified_target_name(source->target))));
    if (source->transform != nullptr)
        inserter->transform = prepare_transform_batch(source, context);
    inserter->plan = run_as_owner(
        source->owner, [&] { return prepare_insert(source, inserter, columns, column_index); });
    return inserter;
}

void free_batch_inserter(BatchInserter *inserter) {
    if (inserter == nullptr) return;
    if (inserter->plan != nullptr) SPI_freeplan(inserter->plan);
    free_transform_batch(inserter->transform);
}

int64 insert_rows(BatchInserter *inserter, PendingRow *rows, int count, RejectFn reject,
                  void *context) {
    if (count == 0) return 0;
    ErrorData *error = try_insert(inserter, rows, count, true);
    while (error != nullptr) {
        if (not_the_rows(inserter, error)) ReThrowError(error);
        auto **errors = static_cast<ErrorData **>(palloc0(sizeof(ErrorData *) * count));
        find_refused(inserter, rows, count, error, errors);
        int kept = 0;
        for (int i = 0; i < count; i++) {
            if (errors[i] != nullptr)
                reject(&rows[i], errors[i]->message, unpack_sql_state(errors[i]->sqlerrcode),
                       context);
            else
                rows[kept++] = rows[i];
        }
        // No single row is to blame: the failure is not the rows' (the target changed under us).
        if (kept == count) ReThrowError(error);
        count = kept;
        // Another session may have changed the target since the isolation: check again.
        error = count > 0 ? try_insert(inserter, rows, count, true) : nullptr;
    }
    return count;
}

}  // namespace pg_ingest
