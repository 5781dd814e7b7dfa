// The pg_ingest extension dropped by any route: DROP EXTENSION, DROP SCHEMA ingest CASCADE,
// DROP OWNED BY its owner. The drop of its pg_extension row stops the database's workers before
// the dropping transaction commits, so none loads anything after it; the counters of its sources
// go at the commit, since a new extension numbers its sources from 1 again.
#pragma once

namespace pg_ingest {

void install_extension_drop_hook();

}  // namespace pg_ingest
