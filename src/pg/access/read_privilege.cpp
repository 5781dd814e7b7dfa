#include "pg/access/read_privilege.hpp"

extern "C" {
#include "catalog/pg_authid.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(ingest_check_may_read);
}

namespace pg_ingest {

const char *read_privilege_refusal(Oid owner) {
    if (superuser_arg(owner) || has_privs_of_role(owner, ROLE_PG_READ_SERVER_FILES)) return nullptr;
    const char *role = GetUserNameFromId(owner, false);
    return psprintf(
        "role \"%s\" may not read server files: it is neither a superuser nor a member "
        "of pg_read_server_files (GRANT pg_read_server_files TO %s, then ingest.start)",
        role, quote_identifier(role));
}

}  // namespace pg_ingest

// ingest.start refuses a source whose owner may not read server files, with the words its
// worker would fail it with.
Datum ingest_check_may_read(PG_FUNCTION_ARGS) {
    char *source_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    const char *refusal = pg_ingest::read_privilege_refusal(PG_GETARG_OID(1));
    if (refusal != nullptr)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("cannot start source \"%s\": %s", source_name, refusal)));
    PG_RETURN_VOID();
}
