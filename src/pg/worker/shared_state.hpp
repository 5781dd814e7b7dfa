// Shared memory the launcher, the source workers and SQL functions use to agree on which
// workers should run, which do, and what each is doing.
#pragma once

#include "core/discovery/source_overlap.hpp"
#include "pg/worker/worker_state.hpp"

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
}

namespace pg_ingest {

constexpr int kRateWindowSeconds = 60;
constexpr int kClaimPatternBytes = 1024;

// A directory a claim names. It is compared by the device and inode its path has when two claims
// are compared, so a directory removed and made again is the new one, and an inode number the
// file system gives again elsewhere is not the claim's. A path longer than MAXPGPATH - 1 counts
// by the device and inode it had when claimed.
struct ClaimedDirectory {
    bool named;  // false: none (no archive directory)
    bool path_fits;
    char path[MAXPGPATH];
    DirectoryKey claimed_key;  // without path_fits
};

// What a started source takes from the file system (source_overlap.hpp), held by its worker 0's
// slot from its first start until the slot is freed (the source stopped or failed), so that no
// source of any database starts on the same files meanwhile. Shared memory does not survive a
// crash restart, so a killed worker's claim cannot outlive it: the sources claim again as they
// start.
struct DirectoryClaim {
    bool held;
    char database_name[NAMEDATALEN];
    char source_name[NAMEDATALEN];
    ClaimedDirectory directory;
    ClaimedDirectory archive_directory;  // on_success = move only
    char pattern[kClaimPatternBytes];    // "*" when longer: it may overlap, never missed
    char ready_marker[256];              // at most 200 bytes (_validate_options)
};

// One worker of one source: a source with `workers` = n has the slots 0 to n - 1.
struct WorkerSlot {
    bool in_use;
    bool wanted;          // the source is started: the launcher keeps a worker running
    bool launching;       // registered with the postmaster, not yet attached
    bool stop_requested;  // the coming exit was asked for: not a failure
    Oid database_id;
    // The pg_ingest extension (its pg_extension OID) the source belongs to: a source id is
    // unique within one incarnation of the catalog only, and a worker never acts for another.
    Oid extension_id;
    int32 source_id;
    int worker_index;  // 0 watches the directory and starts the others
    char source_name[NAMEDATALEN];
    pid_t pid;     // attached worker, 0 when none
    Latch *latch;  // the attached worker's, set to wake it
    TimestampTz attached_at;
    TimestampTz next_launch_at;
    int consecutive_failures;

    // Progress, written by the worker.
    WorkerState state;
    char current_file[MAXPGPATH];
    int64 current_offset;
    int64 rate_second[kRateWindowSeconds];
    int64 rate_rows[kRateWindowSeconds];
    char last_error[512];

    DirectoryClaim claim;  // worker 0's
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
SharedState *shared();

// Callers hold shared()->lock.
WorkerSlot *find_slot(Oid database_id, int32 source_id, int worker_index);
// nullptr when every slot is taken (pg_ingest.max_sources).
WorkerSlot *find_or_add_slot(Oid database_id, int32 source_id, int worker_index, const char *name);
// The launcher is to keep the slot's worker running, for the source of that extension.
void want_slot(WorkerSlot *slot, Oid extension_id);
// Asks every worker of the source to stop (not a failure); `except_pid` is not signalled.
void stop_source_workers(Oid database_id, int32 source_id, pid_t except_pid);

// Called by worker 0 of a source (`own`): the launcher is to keep workers 1 to workers - 1
// running beside it, and no others. Nothing happens once `own` is no longer wanted, so a stop
// that came first is not undone. Returns how many of them found no free slot.
int want_sibling_workers(WorkerSlot *own, int workers);

// Sets the latches of the source's running workers other than the caller.
void wake_sibling_workers(Oid database_id, int32 source_id);

void wake_launcher();
void request_rescan();

}  // namespace pg_ingest
