#include "pg/access/write_privilege.hpp"

extern "C" {
#include "catalog/pg_authid.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(ingest_check_may_write);
}

namespace pg_ingest {

const char *write_privilege_refusal(Oid owner, OnSuccess on_success) {
    if (on_success == OnSuccess::Keep || superuser_arg(owner) ||
        has_privs_of_role(owner, ROLE_PG_WRITE_SERVER_FILES))
        return nullptr;
    const char *role = GetUserNameFromId(owner, false);
    const char *verb = on_success == OnSuccess::Delete ? "delete" : "move";
    return psprintf(
        "role \"%s\" may not %s server files (on_success = %s): it is neither a superuser nor a "
        "member of pg_write_server_files (GRANT pg_write_server_files TO %s, or on_success = "
        "keep)",
        role, verb, verb, quote_identifier(role));
}

}  // namespace pg_ingest

// create_source, alter_source and ingest.start refuse a source whose owner may not do what its
// on_success asks, with the words its worker would fail it with. `action` is the refused verb.
Datum ingest_check_may_write(PG_FUNCTION_ARGS) {
    char *action = text_to_cstring(PG_GETARG_TEXT_PP(0));
    char *source_name = text_to_cstring(PG_GETARG_TEXT_PP(1));
    char *on_success = text_to_cstring(PG_GETARG_TEXT_PP(3));
    const char *refusal = pg_ingest::write_privilege_refusal(
        PG_GETARG_OID(2), pg_ingest::on_success_named(on_success));
    if (refusal != nullptr)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("cannot %s source \"%s\": %s", action, source_name, refusal)));
    PG_RETURN_VOID();
}
