// A source worker's reports into its shared-memory slot: what it is doing, on which file, how
// far, and its last error; ingest.status and ingest.workers read them.
#pragma once

#include "pg/worker/shared_state.hpp"
#include "pg/worker/worker_state.hpp"

namespace pg_ingest {

struct WorkerProgress {
    WorkerState state;
    const char *current_file;  // while loading; nullptr clears it
    int64 current_offset;
    int64 rows;         // rows just committed, counted in the slot's rows/s
    const char *error;  // a new last error; nullptr keeps the one shown
};

void report_progress(WorkerSlot *slot, const WorkerProgress &progress);

// Reports a state with no file, no rows and no new error.
void report_state(WorkerSlot *slot, WorkerState state, const char *error = nullptr);

// The last error is past: ingest.status and ingest.workers show none.
void clear_error(WorkerSlot *slot);

}  // namespace pg_ingest
