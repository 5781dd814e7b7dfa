#include "subtransaction.hpp"

#include "owner_settings.hpp"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
}

namespace pg_ingest {

ErrorData *run_in_subtransaction(bool (*attempt)(void *arg), void *arg) {
    MemoryContext context = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    ErrorData *error = nullptr;
    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(context);
    PG_TRY();
    {
        if (attempt(arg))
            ReleaseCurrentSubTransaction();
        else
            RollbackAndReleaseCurrentSubTransaction();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(context);
        error = CopyErrorData();
        FlushErrorState();
        RollbackAndReleaseCurrentSubTransaction();
    }
    PG_END_TRY();
    MemoryContextSwitchTo(context);
    CurrentResourceOwner = owner;
    return error;
}

int execute_plan_as(Oid owner, SPIPlanPtr plan, Datum *params, const char *nulls) {
    OwnerScope scope = enter_owner_scope(owner);
    int ret = SPI_execute_plan(plan, params, nulls, false, 0);
    leave_owner_scope(scope);
    return ret;
}

}  // namespace pg_ingest
