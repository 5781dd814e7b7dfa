#include "pg/access/role_ownership.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace pg_ingest {

enum class RoleStatementKind { DropRole, DropOwned, ReassignOwned };

struct RoleStatement {
    RoleStatementKind kind;
    List *role_ids;    // Oid list, existing roles only
    List *role_names;  // their names, in the same order
    Oid new_owner;     // REASSIGN OWNED's target
};

namespace {

RoleStatement *resolve_roles(RoleStatementKind kind, List *role_specs) {
    auto *statement = static_cast<RoleStatement *>(palloc0(sizeof(RoleStatement)));
    statement->kind = kind;
    ListCell *cell;
    foreach (cell, role_specs) {
        Oid role = get_rolespec_oid(lfirst_node(RoleSpec, cell), true);
        if (!OidIsValid(role)) continue;
        statement->role_ids = lappend_oid(statement->role_ids, role);
        statement->role_names = lappend(statement->role_names, GetUserNameFromId(role, false));
    }
    return statement;
}

// A catalog function of the extension's current version, or InvalidOid when this database has
// no pg_ingest (or an older version without it).
Oid catalog_function(const char *name, int nargs, const Oid *argtypes) {
    if (!OidIsValid(get_extension_oid("pg_ingest", true))) return InvalidOid;
    List *qualified = list_make2(makeString(pstrdup("ingest")), makeString(pstrdup(name)));
    return LookupFuncName(qualified, nargs, argtypes, true);
}

// Calls it directly: it is SECURITY DEFINER, and not executable by PUBLIC, so that only these
// statements (after PostgreSQL's own privilege checks) reach it.
Datum call(Oid function, int nargs, const Datum *args) {
    LOCAL_FCINFO(fcinfo, 2);
    FmgrInfo flinfo;
    fmgr_info(function, &flinfo);
    InitFunctionCallInfoData(*fcinfo, &flinfo, nargs, InvalidOid, nullptr, nullptr);
    for (int i = 0; i < nargs; i++) {
        fcinfo->args[i].value = args[i];
        fcinfo->args[i].isnull = false;
    }
    Datum result = FunctionCallInvoke(fcinfo);
    return fcinfo->isnull ? (Datum)0 : result;
}

Datum role_array(List *role_ids) {
    int count = list_length(role_ids);
    auto *elements = static_cast<Datum *>(palloc(sizeof(Datum) * (count + 1)));
    for (int i = 0; i < count; i++) elements[i] = ObjectIdGetDatum(list_nth_oid(role_ids, i));
    return PointerGetDatum(
        construct_array(elements, count, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
}

void refuse_dropping_owners(const RoleStatement *statement) {
    Oid argtypes[1] = {OIDOID};
    Oid describe = catalog_function("_sources_owned_by", 1, argtypes);
    if (!OidIsValid(describe)) return;
    for (int i = 0; i < list_length(statement->role_ids); i++) {
        Datum args[1] = {ObjectIdGetDatum(list_nth_oid(statement->role_ids, i))};
        Datum owned = call(describe, 1, args);
        if (owned == (Datum)0) continue;
        ereport(ERROR,
                (errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
                 errmsg("role \"%s\" cannot be dropped because some objects depend on it",
                        static_cast<const char *>(list_nth(statement->role_names, i))),
                 errdetail_internal("%s", TextDatumGetCString(owned)),
                 errhint("REASSIGN OWNED BY hands its sources to another role, DROP OWNED BY "
                         "drops them.")));
    }
}

}  // namespace

RoleStatement *resolve_role_statement(Node *parsetree) {
    if (IsA(parsetree, DropRoleStmt))
        return resolve_roles(RoleStatementKind::DropRole, castNode(DropRoleStmt, parsetree)->roles);
    if (IsA(parsetree, DropOwnedStmt))
        return resolve_roles(RoleStatementKind::DropOwned,
                             castNode(DropOwnedStmt, parsetree)->roles);
    if (IsA(parsetree, ReassignOwnedStmt)) {
        auto *stmt = castNode(ReassignOwnedStmt, parsetree);
        RoleStatement *statement = resolve_roles(RoleStatementKind::ReassignOwned, stmt->roles);
        statement->new_owner = get_rolespec_oid(stmt->newrole, true);
        return statement;
    }
    return nullptr;
}

void apply_role_statement(const RoleStatement *statement) {
    if (statement == nullptr || statement->role_ids == NIL) return;
    switch (statement->kind) {
        case RoleStatementKind::DropRole:
            refuse_dropping_owners(statement);
            break;
        case RoleStatementKind::DropOwned: {
            Oid argtypes[1] = {OIDARRAYOID};
            Oid drop = catalog_function("_drop_sources_of", 1, argtypes);
            Datum args[1] = {role_array(statement->role_ids)};
            if (OidIsValid(drop)) (void)call(drop, 1, args);
            break;
        }
        case RoleStatementKind::ReassignOwned: {
            Oid argtypes[2] = {OIDARRAYOID, OIDOID};
            Oid reassign = catalog_function("_reassign_sources", 2, argtypes);
            Datum args[2] = {role_array(statement->role_ids),
                             ObjectIdGetDatum(statement->new_owner)};
            if (OidIsValid(reassign)) (void)call(reassign, 2, args);
            break;
        }
    }
}

}  // namespace pg_ingest
