// Starting and stopping source workers from SQL: requests take effect when the transaction that
// made them commits, so a worker never starts before it can see its source.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pg_ingest {

void register_worker_control();
// `name` is the source's when it is to run (its slot shows it before the worker does), else "".
void queue_source_signal(int32 source_id, bool run, const char *name);
// How long a statement waits for the workers it stops (they stop at their next interrupt check).
constexpr int kStopWorkersTimeoutMs = 5000;

enum class WorkersStop {
    none,           // the database had no worker, running or wanted
    stopped,        // every one exited
    still_running,  // some did not exit within the timeout
};

// Stops every worker of the database now and waits for them to exit; on abort of the current
// transaction the launcher rescans, so sources that were meant to run come back.
WorkersStop stop_database_workers(Oid database_id, int timeout_ms);
// After the current transaction commits, the launcher starts the started sources again.
void rescan_workers_at_commit();

}  // namespace pg_ingest
