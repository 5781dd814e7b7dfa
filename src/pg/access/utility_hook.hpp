// Stops a database's source workers before statements that would otherwise wait on, deadlock
// with or fail because of the workers' connections and locks: DROP DATABASE, ALTER DATABASE
// ... RENAME or SET TABLESPACE, CREATE DATABASE ... TEMPLATE, DROP EXTENSION pg_ingest, DROP
// SCHEMA ingest, DROP OWNED BY, ALTER EXTENSION pg_ingest. The workers come back once the
// statement's transaction ends (a dropped database's or extension's, never).
#pragma once

namespace pg_ingest {

void install_utility_hook();

// True when a COPY statement would pass through a ProcessUtility hook other than pg_ingest's own
// (which does nothing for COPY): one installed before pg_ingest's, or after it.
bool utility_hooks_beyond_own();

}  // namespace pg_ingest
