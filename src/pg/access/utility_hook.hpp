// Stops a database's source workers before DROP DATABASE or DROP EXTENSION pg_ingest, which
// would otherwise wait on (or fail because of) the workers' connections.
#pragma once

namespace pg_ingest {

void install_utility_hook();

// True when a COPY statement would pass through a ProcessUtility hook other than pg_ingest's own
// (which does nothing for COPY): one installed before pg_ingest's, or after it.
bool utility_hooks_beyond_own();

}  // namespace pg_ingest
