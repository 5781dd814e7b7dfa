#include "pg/insert/transform_batch.hpp"

#include "pg/insert/batch_inserter.hpp"
#include "pg/support/prepared_statement.hpp"
#include "pg/support/run_as_owner.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

namespace pg_ingest {

namespace {

// The owner creates the table, so it is the owner's to fill, read and drop; that takes the
// TEMPORARY privilege, which is checked first to say so in words that name the fix.
void check_may_create_batch(const SourceDefinition *source) {
    Oid types[1] = {OIDOID};
    Datum values[1] = {ObjectIdGetDatum(source->owner)};
    int ret = SPI_execute_with_args(
        "SELECT pg_catalog.has_database_privilege($1, pg_catalog.current_database(), 'TEMP')", 1,
        types, values, nullptr, true, 1);
    if (ret != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "pg_ingest: could not read the owner's privileges");
    bool isnull;
    if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
        return;
    char *role = GetUserNameFromId(source->owner, false);
    char *database = get_database_name(MyDatabaseId);
    // The fix is in the message itself: ingest.files.error keeps the message, not a hint.
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("role \"%s\" may not create temporary tables in database \"%s\", which "
                           "option transform needs for its table \"batch\": GRANT TEMPORARY ON "
                           "DATABASE %s TO %s",
                           role, database, quote_identifier(database), quote_identifier(role))));
}

int create_batch_table(const SourceDefinition *source) {
    int ret = SPI_execute("DROP TABLE IF EXISTS pg_temp.batch", false, 0);
    check_spi_result(ret, SPI_OK_UTILITY, "drop the batch table");
    // Defaults come along, so columns a file lacks take the target's defaults as without a
    // transform; constraints other than NOT NULL are the target's own business.
    char *create =
        psprintf("CREATE TEMPORARY TABLE batch (LIKE %s INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
                 qualified_target_name(source->target));
    return SPI_execute(create, false, 0);
}

}  // namespace

char *load_relation_name(const SourceDefinition *source) {
    if (source->transform != nullptr) return pstrdup("pg_temp.batch");
    return qualified_target_name(source->target);
}

TransformBatch *prepare_transform_batch(const SourceDefinition *source, MemoryContext context) {
    check_may_create_batch(source);
    int ret = run_as_owner(source->owner, [&] { return create_batch_table(source); });
    check_spi_result(ret, SPI_OK_UTILITY, "create the batch table");
    SPIPlanPtr statements = run_as_owner(
        source->owner, [&] { return prepare_kept_plan(source->transform, 0, nullptr); });
    auto *transform =
        static_cast<TransformBatch *>(MemoryContextAllocZero(context, sizeof(TransformBatch)));
    transform->owner = source->owner;
    transform->statements = statements;
    transform->filled_in = InvalidTransactionId;
    return transform;
}

void free_transform_batch(TransformBatch *transform) {
    if (transform != nullptr && transform->statements != nullptr)
        SPI_freeplan(transform->statements);
}

void empty_transform_batch(TransformBatch *transform) {
    if (transform->filled_in != GetTopTransactionId()) return;
    int ret = run_as_owner(transform->owner,
                           [] { return SPI_execute("DELETE FROM pg_temp.batch", false, 0); });
    check_spi_result(ret, SPI_OK_DELETE, "empty the batch table");
}

void run_transform(TransformBatch *transform) {
    transform->filled_in = GetTopTransactionId();
    int ret = run_as_owner(transform->owner, [&] {
        return SPI_execute_plan(transform->statements, nullptr, nullptr, false, 0);
    });
    if (ret < 0) elog(ERROR, "pg_ingest: the transform failed: %s", SPI_result_code_string(ret));
}

}  // namespace pg_ingest
