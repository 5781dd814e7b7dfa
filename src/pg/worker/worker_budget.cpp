#include "pg/worker/worker_budget.hpp"

#include "pg/support/guc_settings.hpp"

extern "C" {
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/latch.h"
#include "utils/wait_event.h"
}

namespace pg_ingest {

namespace {

constexpr int kReportWaitMs = 1000;

const char *const kBudgetHint =
    "Raise max_worker_processes and restart the server, or stop another source: pg_ingest needs "
    "one for its launcher, one for the scanner of a database while it runs, and one per worker "
    "of each started source.";

// Workers pg_ingest's sources hold now, running or registered.
int held_source_workers() {
    SharedState *s = shared();
    int held = 0;
    for (int i = 0; i < s->slot_count; i++)
        if (s->slots[i].in_use && (s->slots[i].pid != 0 || s->slots[i].launching)) held++;
    return held;
}

// Whether the launcher has tried the source's first worker since it was started.
bool settled(Oid database_id, int32 source_id) {
    const WorkerSlot *slot = find_slot(database_id, source_id, 0);
    return slot == nullptr || !slot->wanted || slot->pid != 0 || slot->launching ||
           waits_for_worker(slot);
}

}  // namespace

bool waits_for_worker(const WorkerSlot *slot) {
    return slot->state == WorkerState::waiting_for_worker;
}

void note_no_free_worker(WorkerSlot *slot) {
    if (waits_for_worker(slot)) return;
    int workers = held_source_workers();
    snprintf(slot->last_error, sizeof slot->last_error,
             "no background worker is free: max_worker_processes is %d and pg_ingest holds %d "
             "of them (its launcher and %d source workers); the source starts as soon as one "
             "is free",
             max_worker_processes, workers + 1, workers);
    slot->state = WorkerState::waiting_for_worker;
    ereport(LOG, (errmsg("pg_ingest: source %d of database %u is waiting for a worker: %s",
                         slot->source_id, slot->database_id, slot->last_error),
                  errhint("%s", kBudgetHint)));
}

void note_worker_registered(WorkerSlot *slot) {
    if (!waits_for_worker(slot)) return;
    slot->state = WorkerState::starting;
    slot->last_error[0] = '\0';
}

void report_waiting_sources(const List *source_ids) {
    if (!ingest_enabled || source_ids == NIL) return;
    SharedState *s = shared();
    for (int waited = 0;; waited += 10) {
        bool all_settled = true;
        LWLockAcquire(s->lock, LW_SHARED);
        const ListCell *cell;
        foreach (cell, source_ids) all_settled &= settled(MyDatabaseId, lfirst_int(cell));
        LWLockRelease(s->lock);
        if (all_settled || waited >= kReportWaitMs) break;
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10,
                        PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
    const ListCell *cell;
    foreach (cell, source_ids) {
        char name[NAMEDATALEN] = "";
        char reason[sizeof(WorkerSlot::last_error)] = "";
        LWLockAcquire(s->lock, LW_SHARED);
        const WorkerSlot *slot = find_slot(MyDatabaseId, lfirst_int(cell), 0);
        if (slot != nullptr && waits_for_worker(slot)) {
            strlcpy(name, slot->source_name, sizeof name);
            strlcpy(reason, slot->last_error, sizeof reason);
        }
        LWLockRelease(s->lock);
        if (reason[0] != '\0')
            ereport(NOTICE, (errmsg("pg_ingest source \"%s\" is %s: %s", name,
                                    state_name(WorkerState::waiting_for_worker), reason),
                             errhint("%s", kBudgetHint)));
    }
}

}  // namespace pg_ingest
