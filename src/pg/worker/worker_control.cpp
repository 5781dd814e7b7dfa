#include "pg/worker/worker_control.hpp"

#include "pg/worker/shared_state.hpp"
#include "pg/worker/worker_budget.hpp"

extern "C" {
#include <signal.h>

#include "access/xact.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"
}

namespace pg_ingest {

namespace {

// Encoded as source_id * 2 + run, in TopMemoryContext until the transaction ends; with each, the
// source's name ("" to stop it).
List *pending_signals = NIL;
List *pending_names = NIL;
// The extension the signalled sources belong to, read when the first signal was queued (the
// commit callback may not read the catalog).
Oid pending_extension_id = InvalidOid;
bool rescan_on_abort = false;
bool rescan_on_commit = false;

void apply_pending_signals() {
    SharedState *s = shared();
    List *started = NIL;
    ListCell *cell;
    ListCell *name_cell;
    LWLockAcquire(s->lock, LW_EXCLUSIVE);
    forboth (cell, pending_signals, name_cell, pending_names) {
        int encoded = lfirst_int(cell);
        int32 source_id = encoded / 2;
        bool run = encoded % 2 == 1;
        if (run) {
            // Worker 0 asks for the source's other workers once it has read the source.
            WorkerSlot *slot = find_or_add_slot(MyDatabaseId, source_id, 0,
                                                static_cast<const char *>(lfirst(name_cell)));
            if (slot == nullptr) {
                ereport(WARNING, (errmsg("pg_ingest: no free worker slot for source %d", source_id),
                                  errhint("Raise pg_ingest.max_sources and restart the server.")));
                continue;
            }
            want_slot(slot, pending_extension_id);
            started = lappend_int(started, source_id);
        } else {
            stop_source_workers(MyDatabaseId, source_id, 0);
        }
    }
    LWLockRelease(s->lock);
    wake_launcher();
    report_waiting_sources(started);
    list_free(started);
}

void on_transaction_end(XactEvent event, void *) {
    switch (event) {
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_PARALLEL_COMMIT:
            if (pending_signals != NIL) apply_pending_signals();
            if (rescan_on_commit) request_rescan();
            break;
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PARALLEL_ABORT:
        case XACT_EVENT_PREPARE:
            if (rescan_on_abort) request_rescan();
            break;
        default:
            return;
    }
    list_free(pending_signals);
    list_free_deep(pending_names);
    pending_signals = NIL;
    pending_names = NIL;
    pending_extension_id = InvalidOid;
    rescan_on_abort = false;
    rescan_on_commit = false;
}

}  // namespace

void register_worker_control() {
    RegisterXactCallback(on_transaction_end, nullptr);
}

void queue_source_signal(int32 source_id, bool run, const char *name) {
    shared();
    pending_extension_id = get_extension_oid("pg_ingest", false);
    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    pending_signals = lappend_int(pending_signals, source_id * 2 + (run ? 1 : 0));
    pending_names = lappend(pending_names, pstrdup(name));
    MemoryContextSwitchTo(old);
}

void rescan_workers_at_commit() {
    rescan_on_commit = true;
}

WorkersStop stop_database_workers(Oid database_id, int timeout_ms) {
    SharedState *s = shared();
    bool any = false;
    rescan_on_abort = true;
    LWLockAcquire(s->lock, LW_EXCLUSIVE);
    for (int i = 0; i < s->slot_count; i++) {
        WorkerSlot *slot = &s->slots[i];
        if (!slot->in_use || slot->database_id != database_id) continue;
        any = true;
        slot->wanted = false;
        slot->stop_requested = true;
        if (slot->pid != 0) kill(slot->pid, SIGTERM);
    }
    LWLockRelease(s->lock);

    for (int waited = 0; waited < timeout_ms; waited += 10) {
        bool busy = false;
        LWLockAcquire(s->lock, LW_SHARED);
        for (int i = 0; i < s->slot_count; i++) {
            WorkerSlot *slot = &s->slots[i];
            if (slot->in_use && slot->database_id == database_id &&
                (slot->pid != 0 || slot->launching))
                busy = true;
        }
        LWLockRelease(s->lock);
        if (!busy) return any ? WorkersStop::stopped : WorkersStop::none;
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10,
                        PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
    }
    return WorkersStop::still_running;
}

}  // namespace pg_ingest
