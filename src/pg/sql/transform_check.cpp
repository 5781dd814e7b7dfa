// ingest._check_transform: create_source and alter_source plan a transform against an empty
// `batch` before they accept it, so a syntax error or a missing relation is refused there.
#include "pg/insert/batch_inserter.hpp"
#include "pg/support/subtransaction.hpp"

extern "C" {
#include "postgres.h"
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

// In a subtransaction that is always rolled back: a temporary `batch` like the target, then
// every statement of the transform parsed and analysed (SPI_prepare), as the owner, with the
// calling session's default search_path (the owner's login one when the owner calls).
bool plan_against_empty_batch(void *arg) {
    auto *check = static_cast<TransformCheck *>(arg);
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_ingest: SPI_connect failed");
    Oid saved_user;
    int saved_context;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    int nest_level = NewGUCNestLevel();
    (void)set_config_option("search_path", GetConfigOptionResetString("search_path"), PGC_USERSET,
                            PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
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
