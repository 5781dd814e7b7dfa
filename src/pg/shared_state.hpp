// Shared memory the launcher, the source workers and SQL functions use to agree on which
// workers should run, which do, and what each is doing.
#pragma once

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
}

namespace pg_ingest {

constexpr int kRateWindowSeconds = 60;

struct WorkerSlot {
    bool in_use;
    bool wanted;          // the source is started: the launcher keeps a worker running
    bool launching;       // registered with the postmaster, not yet attached
    bool stop_requested;  // the coming exit was asked for: not a failure
    Oid database_id;
    int32 source_id;
    char source_name[NAMEDATALEN];
    pid_t pid;  // attached worker, 0 when none
    TimestampTz attached_at;
    TimestampTz next_launch_at;
    int consecutive_failures;

    // Progress, written by the worker.
    char state[16];
    char current_file[MAXPGPATH];
    int64 current_offset;
    int64 rate_second[kRateWindowSeconds];
    int64 rate_rows[kRateWindowSeconds];
    char last_error[512];
};

struct SharedState {
    LWLock *lock;
    Latch *launcher_latch;
    bool rescan_requested;
    int slot_count;
    WorkerSlot slots[FLEXIBLE_ARRAY_MEMBER];
};

extern int max_sources;

void request_shared_state();
void attach_shared_state();
SharedState *shared();

// Callers hold shared()->lock.
WorkerSlot *find_slot(Oid database_id, int32 source_id);
// nullptr when every slot is taken (pg_ingest.max_sources).
WorkerSlot *find_or_add_slot(Oid database_id, int32 source_id, const char *name);

void wake_launcher();
void request_rescan();

}  // namespace pg_ingest
