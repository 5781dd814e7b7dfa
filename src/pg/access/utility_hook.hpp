// Stops a database's source workers before DROP DATABASE or DROP EXTENSION pg_ingest, which
// would otherwise wait on (or fail because of) the workers' connections.
#pragma once

namespace pg_ingest {

void install_utility_hook();

}  // namespace pg_ingest
