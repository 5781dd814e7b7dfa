// The one place that knows which PostgreSQL major it is compiled against: it is the only file
// that tests PG_VERSION_NUM, and it gives the rest of the code one spelling for each server API
// that moved between 15 and 19. Include it after postgres.h.
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/memutils.h"

// Since 16 the varlena macros (SET_VARSIZE, VARDATA, ...) live in varatt.h, not postgres.h.
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

#include "executor/executor.h"
#include "parser/parse_node.h"
#include "utils/acl.h"

// Since 18 wait event sets have a header of their own (latch.h still includes it, for WL_*).
#if PG_VERSION_NUM >= 180000
#include "storage/waiteventset.h"
#else
#include "storage/latch.h"
#endif
}

namespace pg_ingest {

// A wait event set that lives as long as the process: a worker creates it once and never frees
// it. Until 16 a set is allocated in the memory context it is given; since 17 it is always in
// TopMemoryContext and tracked by the resource owner it is given, none meaning untracked.
inline WaitEventSet *create_process_wait_event_set(int events) {
#if PG_VERSION_NUM >= 170000
    return CreateWaitEventSet(nullptr, events);
#else
    return CreateWaitEventSet(TopMemoryContext, events);
#endif
}

// Checks INSERT on the given columns (attribute numbers) of a range table entry just added, as
// DoCopy does for COPY FROM, raising the usual permission error. Since 16 the permissions of a
// range table entry live in an RTEPermissionInfo, checked by ExecCheckPermissions.
inline void check_insert_on_columns(ParseState *pstate, ParseNamespaceItem *item, List *attnums) {
    ListCell *cell;
#if PG_VERSION_NUM >= 160000
    RTEPermissionInfo *permissions = item->p_perminfo;
    permissions->requiredPerms = ACL_INSERT;
    foreach (cell, attnums)
        permissions->insertedCols = bms_add_member(
            permissions->insertedCols, lfirst_int(cell) - FirstLowInvalidHeapAttributeNumber);
    ExecCheckPermissions(pstate->p_rtable, list_make1(permissions), true);
#else
    RangeTblEntry *entry = item->p_rte;
    entry->requiredPerms = ACL_INSERT;
    foreach (cell, attnums)
        entry->insertedCols = bms_add_member(entry->insertedCols,
                                             lfirst_int(cell) - FirstLowInvalidHeapAttributeNumber);
    ExecCheckRTPerms(pstate->p_rtable, true);
#endif
}

}  // namespace pg_ingest
