#include "pg/access/owner_check.hpp"

#include "pg/access/read_privilege.hpp"
#include "pg/access/write_privilege.hpp"

extern "C" {
#include "postgres.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace pg_ingest {

const char *owner_refusal(const SourceDefinition *source) {
    if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(source->owner)))
        return psprintf("owner role with OID %u no longer exists", source->owner);
    // The file's bytes are read for the owner, as COPY FROM a file would read them.
    if (const char *refusal = read_privilege_refusal(source->owner)) return refusal;
    // Deleting or moving the loaded file writes the server's files, as COPY TO a file would.
    if (const char *refusal = write_privilege_refusal(source->owner, source->on_success))
        return refusal;
    if (pg_class_aclcheck(source->target, source->owner, ACL_INSERT) != ACLCHECK_OK)
        return psprintf("role \"%s\" has no INSERT privilege on table \"%s\"",
                        GetUserNameFromId(source->owner, false), get_rel_name(source->target));
    return nullptr;
}

}  // namespace pg_ingest
