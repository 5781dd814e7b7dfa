// The owner's session settings. Every statement the worker runs on the owner's behalf (the COPY,
// the INSERT, the DELETE of a replay, and whatever their triggers, defaults and constraints run)
// sees the settings the owner would get at login to this database, resolved as PostgreSQL does:
// ALTER ROLE ... IN DATABASE ... SET, then ALTER ROLE ... SET, then ALTER DATABASE ... SET, then
// ALTER ROLE ALL ... SET, then the server's configuration. The worker's own catalog statements
// keep the settings pin_worker_settings() pins. The owner's statement_timeout is enforced per
// statement, as in the owner's session.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pg_ingest {

// Pins, for the whole session, the settings the worker's own catalog statements rely on (README,
// "The owner's session settings"). Once, right after connecting; also registers what disarms
// the owner's statement_timeout when a statement fails.
void pin_worker_settings();

// Before each file, in a transaction: reads the owner's login settings again when
// pg_db_role_setting changed since the last file (or after forget_owner_settings).
void refresh_owner_settings(Oid owner);
// After a configuration reload: the server's own values may have changed.
void forget_owner_settings();

// Statements on the owner's behalf run between these two, in one transaction: the owner as the
// current user, with the owner's settings and statement_timeout. An error needs no leave: the
// (sub)transaction's abort restores the user and the settings, and disarms the timeout.
struct OwnerScope {
    Oid saved_user;
    int saved_security_context;
    int guc_nest_level;
};
OwnerScope enter_owner_scope(Oid owner);
void leave_owner_scope(const OwnerScope &scope);

// True, once, when the statement that failed last was canceled by the owner's statement_timeout
// (not by a cancel request).
bool take_owner_statement_timeout();

}  // namespace pg_ingest
