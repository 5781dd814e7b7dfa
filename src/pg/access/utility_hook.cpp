#include "pg/access/utility_hook.hpp"

#include "pg/access/role_ownership.hpp"
#include "pg/worker/source_metrics.hpp"
#include "pg/worker/worker_control.hpp"

extern "C" {
#include "postgres.h"
// get_database_oid: declared in commands/dbcommands.h up to 18, in catalog/pg_database.h since 19.
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
}

namespace pg_ingest {

namespace {

constexpr int kStopTimeoutMs = 5000;
ProcessUtility_hook_type previous_utility_hook = nullptr;

bool drops_this_extension(const DropStmt *stmt) {
    if (stmt->removeType != OBJECT_EXTENSION) return false;
    ListCell *cell;
    foreach (cell, stmt->objects) {
        if (strcmp(strVal(lfirst(cell)), "pg_ingest") == 0) return true;
    }
    return false;
}

bool updates_this_extension(const Node *parsetree) {
    return IsA(parsetree, AlterExtensionStmt) &&
           strcmp(castNode(AlterExtensionStmt, parsetree)->extname, "pg_ingest") == 0;
}

void on_utility(PlannedStmt *pstmt, const char *query, bool read_only_tree,
                ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *query_env,
                DestReceiver *dest, QueryCompletion *qc) {
    Node *parsetree = pstmt->utilityStmt;
    Oid dropped_database = InvalidOid;
    if (IsA(parsetree, DropdbStmt)) {
        Oid database_id = get_database_oid(castNode(DropdbStmt, parsetree)->dbname, true);
        if (OidIsValid(database_id)) stop_database_workers(database_id, kStopTimeoutMs);
        dropped_database = database_id;
    } else if (updates_this_extension(parsetree)) {
        // Workers run the library's statements against the catalog: stop them while it changes,
        // and let the launcher start the sources again once the new version is committed.
        stop_database_workers(MyDatabaseId, kStopTimeoutMs);
        rescan_workers_at_commit();
    } else if (IsA(parsetree, DropStmt) && drops_this_extension(castNode(DropStmt, parsetree))) {
        stop_database_workers(MyDatabaseId, kStopTimeoutMs);
        dropped_database = MyDatabaseId;
    }
    RoleStatement *role_statement = resolve_role_statement(parsetree);
    if (previous_utility_hook)
        previous_utility_hook(pstmt, query, read_only_tree, context, params, query_env, dest, qc);
    else
        standard_ProcessUtility(pstmt, query, read_only_tree, context, params, query_env, dest, qc);
    apply_role_statement(role_statement);
    // Source ids start again at 1 in a new extension: no counters may carry over to them.
    if (OidIsValid(dropped_database)) forget_database_metrics(dropped_database);
}

}  // namespace

void install_utility_hook() {
    previous_utility_hook = ProcessUtility_hook;
    ProcessUtility_hook = on_utility;
}

bool utility_hooks_beyond_own() {
    if (ProcessUtility_hook == nullptr) return false;
    return ProcessUtility_hook != on_utility || previous_utility_hook != nullptr;
}

}  // namespace pg_ingest
