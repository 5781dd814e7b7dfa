#include "pg/insert/citus_target.hpp"

#include "pg/support/run_as_owner.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
}

namespace pg_ingest {

namespace {

// $1 is an object of `type`, or nothing when arguments is 0.
bool query_is_true(const char *sql, int arguments, Oid type, Oid object) {
    Oid types[1] = {type};
    Datum values[1] = {ObjectIdGetDatum(object)};
    int ret = SPI_execute_with_args(sql, arguments, types, values, nullptr, true, 0);
    if (ret != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "pg_ingest: could not read where the target's rows are stored");
    bool isnull;
    Datum result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    return !isnull && DatumGetBool(result);
}

// Whether the owner may execute Citus's recover_prepared_transactions() (revoked from PUBLIC).
bool owner_may_recover(Oid owner) {
    return query_is_true(
        "SELECT CASE WHEN pg_catalog.to_regprocedure("
        "'pg_catalog.recover_prepared_transactions()') IS NULL THEN false "
        "ELSE pg_catalog.has_function_privilege($1, pg_catalog.to_regprocedure("
        "'pg_catalog.recover_prepared_transactions()'), 'EXECUTE') END",
        1, OIDOID, owner);
}

}  // namespace

bool target_query_is_true(const char *sql, Oid target) {
    return query_is_true(sql, 1, REGCLASSOID, target);
}

bool is_citus_table(Oid target) {
    // pg_dist_partition exists only where the citus extension is: named only once it is known to.
    if (!query_is_true("SELECT pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL",
                       0, REGCLASSOID, target))
        return false;
    return target_query_is_true(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1)", target);
}

PreparedRecoveryResult recover_citus_prepared_transactions(const SourceDefinition *source) {
    if (!is_citus_table(source->target)) return {PreparedRecovery::not_citus, 0};
    if (!owner_may_recover(source->owner)) return {PreparedRecovery::not_permitted, 0};
    int resolved = run_as_owner(source->owner, [&] {
        int ret = SPI_execute("SELECT pg_catalog.recover_prepared_transactions()", false, 1);
        if (ret != SPI_OK_SELECT || SPI_processed != 1)
            elog(ERROR, "pg_ingest: recover_prepared_transactions() returned no row");
        bool isnull;
        Datum count = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
        return isnull ? 0 : DatumGetInt32(count);
    });
    return {PreparedRecovery::recovered, resolved};
}

}  // namespace pg_ingest
