// Runs a statement with the privileges of a source's owner, as a SECURITY DEFINER function
// would: triggers, constraints, row-level security and partition routing see that role.
#pragma once

extern "C" {
#include "postgres.h"
#include "miscadmin.h"
}

namespace pg_ingest {

// `statement` may raise: the ERROR aborts the (sub)transaction, which restores the user. It
// returns a value (a plan, an SPI result code), returned here once the user is restored.
template <typename Statement>
auto run_as_owner(Oid owner, Statement &&statement) -> decltype(statement()) {
    Oid saved_user;
    int saved_context;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    SetUserIdAndSecContext(owner, saved_context | SECURITY_LOCAL_USERID_CHANGE);
    auto result = statement();
    SetUserIdAndSecContext(saved_user, saved_context);
    return result;
}

}  // namespace pg_ingest
