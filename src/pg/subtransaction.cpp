#include "subtransaction.hpp"

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
    // volatile: assigned between PG_TRY's setjmp and its longjmp, read after it.
    ErrorData *volatile error = nullptr;
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
    Oid saved_user;
    int saved_context;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    SetUserIdAndSecContext(owner, saved_context | SECURITY_LOCAL_USERID_CHANGE);
    int ret = SPI_execute_plan(plan, params, nulls, false, 0);
    SetUserIdAndSecContext(saved_user, saved_context);
    return ret;
}

}  // namespace pg_ingest
