// The launcher background worker and the per-database scanner it uses.
#pragma once

#include "pg/worker/shared_state.hpp"

namespace pg_ingest {

void register_launcher();
// Bookkeeping when a source worker exits: the launcher restarts it if it is still wanted, with
// backoff when it keeps failing. Caller holds shared()->lock.
void note_worker_exit(WorkerSlot *slot);

}  // namespace pg_ingest
