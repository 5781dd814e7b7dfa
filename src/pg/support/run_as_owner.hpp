// Runs a statement with the privileges of a source's owner, as a SECURITY DEFINER function
// would: triggers, constraints, row-level security and partition routing see that role.
#pragma once

#include "pg/access/owner_settings.hpp"

extern "C" {
#include "postgres.h"
}

namespace pg_ingest {

// The statement also sees the owner's session settings and statement_timeout (owner_settings).
// `statement` may raise: the ERROR aborts the (sub)transaction, which restores the user and the
// settings. It returns a value (a plan, an SPI result code), returned here once they are restored.
template <typename Statement>
auto run_as_owner(Oid owner, Statement &&statement) -> decltype(statement()) {
    OwnerScope scope = enter_owner_scope(owner);
    auto result = statement();
    leave_owner_scope(scope);
    return result;
}

}  // namespace pg_ingest
