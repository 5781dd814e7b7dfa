// The background worker budget. Each running source worker takes one of the server's
// max_worker_processes, as do pg_ingest's launcher and, while it runs, the scanner of one
// database. A started source that no slot is free for is 'waiting for a worker', says why in
// ingest.status and ingest.workers, and starts as soon as a slot frees (no backoff).
#pragma once

#include "pg/worker/shared_state.hpp"

extern "C" {
#include "nodes/pg_list.h"
}

namespace pg_ingest {

// Callers hold shared()->lock.
bool waits_for_worker(const WorkerSlot *slot);
// The launcher could not register a worker for the slot: it waits, with why.
void note_no_free_worker(WorkerSlot *slot);
// The launcher registered a worker for the slot: it no longer waits.
void note_worker_registered(WorkerSlot *slot);

// In the session that started sources, once its transaction committed: waits (up to a second)
// for the launcher's attempt at each, and raises a NOTICE with a HINT for each that waits.
void report_waiting_sources(const List *source_ids);

}  // namespace pg_ingest
