// ingest._check_transform: create_source and alter_source plan a transform against an empty
// `batch` before they accept it, so a syntax error or a missing relation is refused there.
#include "pg/insert/batch_inserter.hpp"
#include "pg/support/subtransaction.hpp"

extern "C" {
#include "postgres.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

PG_FUNCTION_INFO_V1(ingest_check_transform);
}

using namespace pg_ingest;

namespace {

struct TransformCheck {
    Oid target;
    const char *transform;
    Oid owner;
};

// The search_path the owner's statements get in the worker (owner_settings.hpp): the owner's
// login setting for this database, or else the server's own value. Read as the extension's
// owner, before the switch to the owner (pg_file_settings is for superusers).
const char *kOwnerSearchPathQuery =
    "SELECT coalesce("
    " (SELECT pg_catalog.substr(u.item, 13)"
    "  FROM (VALUES ($1, $2, 4), (0::pg_catalog.oid, $2, 3), ($1, 0::pg_catalog.oid, 2),"
    "               (0::pg_catalog.oid, 0::pg_catalog.oid, 1)) AS l(db, role, rank)"
    "  JOIN pg_catalog.pg_db_role_setting s ON s.setdatabase = l.db AND s.setrole = l.role,"
    "  pg_catalog.unnest(s.setconfig) AS u(item)"
    "  WHERE u.item LIKE 'search\\_path=%' ORDER BY l.rank DESC LIMIT 1),"
    " (SELECT f.setting FROM pg_catalog.pg_file_settings f"
    "  WHERE f.name = 'search_path' AND f.applied ORDER BY f.seqno DESC LIMIT 1),"
    " (SELECT boot_val FROM pg_catalog.pg_settings WHERE name = 'search_path'))";

char *owner_search_path(Oid owner) {
    Oid types[2] = {OIDOID, OIDOID};
    Datum values[2] = {ObjectIdGetDatum(MyDatabaseId), ObjectIdGetDatum(owner)};
    int ret = SPI_execute_with_args(kOwnerSearchPathQuery, 2, types, values, nullptr, true, 1);
    if (ret != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "pg_ingest: could not read the owner's search_path");
    return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

// In a subtransaction that is always rolled back: a temporary `batch` like the target, then
// every statement of the transform parsed and analysed (SPI_prepare), as the owner, with the
// search_path the owner's statements get in the worker.
bool plan_against_empty_batch(void *arg) {
    auto *check = static_cast<TransformCheck *>(arg);
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_ingest: SPI_connect failed");
    Oid saved_user;
    int saved_context;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    char *search_path = owner_search_path(check->owner);
    int nest_level = NewGUCNestLevel();
    (void)set_config_option("search_path", search_path, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                            true, 0, false);
    SetUserIdAndSecContext(check->owner, saved_context | SECURITY_LOCAL_USERID_CHANGE);
    char *create = psprintf("CREATE TEMPORARY TABLE batch (LIKE %s INCLUDING DEFAULTS)",
                            qualified_target_name(check->target));
    if (SPI_execute(create, false, 0) != SPI_OK_UTILITY)
        elog(ERROR, "pg_ingest: could not create a batch table to check the transform");
    if (SPI_prepare(check->transform, 0, nullptr) == nullptr)
        elog(ERROR, "pg_ingest: the transform cannot be prepared: %s",
             SPI_result_code_string(SPI_result));
    SetUserIdAndSecContext(saved_user, saved_context);
    AtEOXact_GUC(true, nest_level);
    SPI_finish();
    return false;
}

}  // namespace

Datum ingest_check_transform(PG_FUNCTION_ARGS) {
    TransformCheck check = {PG_GETARG_OID(0), text_to_cstring(PG_GETARG_TEXT_PP(1)),
                            PG_GETARG_OID(2)};
    ErrorData *error = run_in_subtransaction(plan_against_empty_batch, &check);
    if (error == nullptr) PG_RETURN_VOID();
    ereport(ERROR, (errcode(error->sqlerrcode),
                    errmsg("option \"transform\" does not plan against table %s: %s",
                           qualified_target_name(check.target), error->message),
                    error->detail != nullptr ? errdetail_internal("%s", error->detail) : 0,
                    error->hint != nullptr ? errhint("%s", error->hint) : 0));
}
