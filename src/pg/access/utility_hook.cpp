#include "pg/access/utility_hook.hpp"

#include "pg/access/role_ownership.hpp"
#include "pg/worker/source_metrics.hpp"
#include "pg/worker/worker_control.hpp"

extern "C" {
#include "postgres.h"
#include "access/htup_details.h"
// get_database_oid: declared in commands/dbcommands.h up to 18, in catalog/pg_database.h since 19.
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"
// get_database_name: declared in commands/dbcommands.h up to 18, in utils/lsyscache.h since 19.
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace pg_ingest {

namespace {

ProcessUtility_hook_type previous_utility_hook = nullptr;

bool names_any(List *names, const char *name) {
    ListCell *cell;
    foreach (cell, names) {
        if (strcmp(strVal(lfirst(cell)), name) == 0) return true;
    }
    return false;
}

// Statements that drop what the workers hold locks on: the extension (directly, or with its
// schema, fixed by the control file) or whatever a role owns. A worker in a batch holds locks
// on the target and on ingest.files while it waits for another, and such a statement takes
// them one after another: stopped first, the workers never deadlock with it.
bool drops_what_workers_lock(const Node *parsetree) {
    if (IsA(parsetree, DropOwnedStmt)) return true;
    if (!IsA(parsetree, DropStmt)) return false;
    const auto *stmt = castNode(DropStmt, parsetree);
    if (stmt->removeType == OBJECT_EXTENSION) return names_any(stmt->objects, "pg_ingest");
    if (stmt->removeType == OBJECT_SCHEMA) return names_any(stmt->objects, "ingest");
    return false;
}

bool updates_this_extension(const Node *parsetree) {
    return IsA(parsetree, AlterExtensionStmt) &&
           strcmp(castNode(AlterExtensionStmt, parsetree)->extname, "pg_ingest") == 0;
}

const char *option_value(List *options, const char *option) {
    ListCell *cell;
    foreach (cell, options) {
        DefElem *element = lfirst_node(DefElem, cell);
        if (strcmp(element->defname, option) == 0) return defGetString(element);
    }
    return nullptr;
}

// The database a statement needs without other sessions, which PostgreSQL waits 5 s for and
// then refuses: the one ALTER DATABASE renames or moves to another tablespace, or the one
// CREATE DATABASE copies. Names only; "" for other statements.
const char *database_needing_no_sessions(const Node *parsetree) {
    if (IsA(parsetree, RenameStmt)) {
        const auto *stmt = castNode(RenameStmt, parsetree);
        return stmt->renameType == OBJECT_DATABASE ? stmt->subname : "";
    }
    if (IsA(parsetree, AlterDatabaseStmt)) {
        const auto *stmt = castNode(AlterDatabaseStmt, parsetree);
        return option_value(stmt->options, "tablespace") != nullptr ? stmt->dbname : "";
    }
    if (IsA(parsetree, CreatedbStmt)) {
        const char *source = option_value(castNode(CreatedbStmt, parsetree)->options, "template");
        return source != nullptr ? source : "template1";
    }
    return "";
}

// Only for a role that may run the statement on that database (its owner's privileges, or a
// template anyone may copy): no one else can pause another's loading.
bool may_step_aside_for(Oid database_id) {
    HeapTuple tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(database_id));
    if (!HeapTupleIsValid(tuple)) return false;
    auto *database = reinterpret_cast<Form_pg_database>(GETSTRUCT(tuple));
    bool may = database->datistemplate || has_privs_of_role(GetUserId(), database->datdba);
    ReleaseSysCache(tuple);
    return may;
}

// The workers of the database step aside for the statement: they stop now and come back once
// its transaction ends, committed or not. A worker that does not exit in time (stuck in a read
// of a hung file system, say) would make the statement fail without naming pg_ingest.
void step_aside(Oid database_id) {
    WorkersStop stop = stop_database_workers(database_id, kStopWorkersTimeoutMs);
    if (stop == WorkersStop::none) return;
    rescan_workers_at_commit();
    if (stop == WorkersStop::stopped) return;
    ereport(ERROR, (errcode(ERRCODE_OBJECT_IN_USE),
                    errmsg("pg_ingest workers of database \"%s\" did not stop within %d s",
                           get_database_name(database_id), kStopWorkersTimeoutMs / 1000),
                    errhint("A worker ends at its next interrupt check: retry the statement once "
                            "pg_stat_activity shows no backend_type 'pg_ingest worker' in that "
                            "database; ingest.status there shows what they do.")));
}

// Before the statement runs; returns the database DROP DATABASE drops, if any.
Oid make_way_for(const Node *parsetree) {
    if (IsA(parsetree, DropdbStmt)) {
        Oid database_id = get_database_oid(castNode(DropdbStmt, parsetree)->dbname, true);
        if (OidIsValid(database_id)) stop_database_workers(database_id, kStopWorkersTimeoutMs);
        return database_id;
    }
    // Workers run the library's statements against the catalog: they stop while it changes,
    // and the launcher starts the sources again once the new version is committed.
    if (updates_this_extension(parsetree) || drops_what_workers_lock(parsetree)) {
        step_aside(MyDatabaseId);
        return InvalidOid;
    }
    const char *database = database_needing_no_sessions(parsetree);
    if (database[0] == '\0') return InvalidOid;
    Oid database_id = get_database_oid(database, true);
    if (OidIsValid(database_id) && may_step_aside_for(database_id)) step_aside(database_id);
    return InvalidOid;
}

void on_utility(PlannedStmt *pstmt, const char *query, bool read_only_tree,
                ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *query_env,
                DestReceiver *dest, QueryCompletion *qc) {
    Node *parsetree = pstmt->utilityStmt;
    Oid dropped_database = make_way_for(parsetree);
    RoleStatement *role_statement = resolve_role_statement(parsetree);
    if (previous_utility_hook)
        previous_utility_hook(pstmt, query, read_only_tree, context, params, query_env, dest, qc);
    else
        standard_ProcessUtility(pstmt, query, read_only_tree, context, params, query_env, dest, qc);
    apply_role_statement(role_statement);
    // Source ids start again at 1 in a new database of that OID: no counters may carry over.
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
