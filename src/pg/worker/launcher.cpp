// The launcher: one static background worker that keeps the source workers running for every
// started source of every database (worker 0 asks for the source's others), restarting failed
// ones with backoff. It learns about sources from SQL (ingest.start/stop, at commit) and, after a
// server start or crash, from a short-lived scanner worker per database, since a process can only
// read one database.
#include "pg/worker/launcher.hpp"

#include "pg/support/guc_settings.hpp"
#include "pg/worker/shared_state.hpp"
#include "pg/worker/worker_budget.hpp"

extern "C" {
#include <signal.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
}

namespace pg_ingest {

namespace {

constexpr int kMaxBackoffSeconds = 60;
// A worker that lived this long before dying is not failing repeatedly.
constexpr int kHealthySeconds = 60;

BackgroundWorkerHandle **launch_handles = nullptr;

void fill_worker(BackgroundWorker *worker, const char *function, const char *type) {
    memset(worker, 0, sizeof *worker);
    worker->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker->bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker->bgw_restart_time = BGW_NEVER_RESTART;
    strlcpy(worker->bgw_library_name, "pg_ingest", BGW_MAXLEN);
    strlcpy(worker->bgw_function_name, function, BGW_MAXLEN);
    strlcpy(worker->bgw_type, type, BGW_MAXLEN);
    worker->bgw_notify_pid = MyProcPid;
}

List *connectable_databases() {
    List *databases = NIL;
    StartTransactionCommand();
    Relation rel = table_open(DatabaseRelationId, AccessShareLock);
    TableScanDesc scan = table_beginscan_catalog(rel, 0, nullptr);
    HeapTuple tuple;
    while ((tuple = heap_getnext(scan, ForwardScanDirection)) != nullptr) {
        auto *db = reinterpret_cast<Form_pg_database>(GETSTRUCT(tuple));
        if (db->datallowconn) {
            MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
            databases = lappend_oid(databases, db->oid);
            MemoryContextSwitchTo(old);
        }
    }
    table_endscan(scan);
    table_close(rel, AccessShareLock);
    CommitTransactionCommand();
    return databases;
}

// Runs one scanner per database, one after another, so a scan needs a single worker slot.
void scan_databases() {
    List *databases = connectable_databases();
    ListCell *cell;
    foreach (cell, databases) {
        BackgroundWorker worker;
        BackgroundWorkerHandle *handle;
        Oid database_id = lfirst_oid(cell);
        fill_worker(&worker, "pg_ingest_scanner_main", "pg_ingest scanner");
        snprintf(worker.bgw_name, BGW_MAXLEN, "pg_ingest scanner for database %u", database_id);
        worker.bgw_main_arg = ObjectIdGetDatum(database_id);
        if (!RegisterDynamicBackgroundWorker(&worker, &handle)) {
            ereport(WARNING,
                    (errmsg("pg_ingest: could not start a scanner for database %u", database_id),
                     errhint("Raise max_worker_processes.")));
            request_rescan();
            continue;
        }
        (void)WaitForBackgroundWorkerShutdown(handle);
        pfree(handle);
    }
    list_free(databases);
}

void launch_worker(int index, WorkerSlot *slot) {
    BackgroundWorker worker;
    fill_worker(&worker, "pg_ingest_source_worker_main", "pg_ingest worker");
    if (slot->worker_index == 0)
        snprintf(worker.bgw_name, BGW_MAXLEN, "pg_ingest worker for source %d of database %u",
                 slot->source_id, slot->database_id);
    else
        snprintf(worker.bgw_name, BGW_MAXLEN, "pg_ingest worker #%d for source %d of database %u",
                 slot->worker_index + 1, slot->source_id, slot->database_id);
    worker.bgw_main_arg = Int32GetDatum(index);
    memcpy(worker.bgw_extra, &slot->database_id, sizeof(Oid));
    memcpy(worker.bgw_extra + sizeof(Oid), &slot->source_id, sizeof(int32));
    if (RegisterDynamicBackgroundWorker(&worker, &launch_handles[index])) {
        slot->launching = true;
        slot->stop_requested = false;
        note_worker_registered(slot);
        return;
    }
    // No backoff: the next round tries again, and a worker of ours that exits wakes the launcher.
    note_no_free_worker(slot);
}

void note_failure(WorkerSlot *slot, TimestampTz now) {
    slot->consecutive_failures++;
    int delay = 1 << Min(slot->consecutive_failures - 1, 6);
    slot->next_launch_at = TimestampTzPlusMilliseconds(now, Min(delay, kMaxBackoffSeconds) * 1000);
}

// Brings the running workers in line with the wanted ones.
void reconcile() {
    SharedState *s = shared();
    TimestampTz now = GetCurrentTimestamp();
    LWLockAcquire(s->lock, LW_EXCLUSIVE);
    for (int i = 0; i < s->slot_count; i++) {
        WorkerSlot *slot = &s->slots[i];
        if (!slot->in_use) continue;
        if (slot->launching) {
            pid_t pid;
            if (launch_handles[i] != nullptr &&
                GetBackgroundWorkerPid(launch_handles[i], &pid) == BGWH_STOPPED && slot->pid == 0) {
                slot->launching = false;
                if (slot->wanted) note_failure(slot, now);
            }
            continue;
        }
        if (slot->pid != 0) {
            if (!slot->wanted) kill(slot->pid, SIGTERM);
            continue;
        }
        if (!slot->wanted || !ingest_enabled) {
            if (!slot->wanted) slot->in_use = false;
            continue;
        }
        if (now >= slot->next_launch_at) launch_worker(i, slot);
    }
    LWLockRelease(s->lock);
}

void stop_all_workers() {
    SharedState *s = shared();
    LWLockAcquire(s->lock, LW_EXCLUSIVE);
    for (int i = 0; i < s->slot_count; i++) {
        if (!s->slots[i].in_use || s->slots[i].pid == 0) continue;
        // Asked for, not a failure: no backoff when pg_ingest.enabled comes back on.
        s->slots[i].stop_requested = true;
        kill(s->slots[i].pid, SIGTERM);
    }
    LWLockRelease(s->lock);
}

}  // namespace

void register_launcher() {
    BackgroundWorker worker;
    fill_worker(&worker, "pg_ingest_launcher_main", "pg_ingest launcher");
    strlcpy(worker.bgw_name, "pg_ingest launcher", BGW_MAXLEN);
    worker.bgw_restart_time = 5;
    worker.bgw_notify_pid = 0;
    RegisterBackgroundWorker(&worker);
}

// Called by a source worker as it exits, through on_shmem_exit.
void note_worker_exit(WorkerSlot *slot) {
    TimestampTz now = GetCurrentTimestamp();
    slot->pid = 0;
    slot->latch = nullptr;
    if (slot->stop_requested || !slot->wanted) {
        slot->consecutive_failures = 0;
        slot->next_launch_at = now;
    } else {
        if (TimestampDifferenceExceeds(slot->attached_at, now, kHealthySeconds * 1000))
            slot->consecutive_failures = 0;
        note_failure(slot, now);
    }
    slot->stop_requested = false;
    slot->state = WorkerState::stopped;
}

}  // namespace pg_ingest

using namespace pg_ingest;

extern "C" {

PGDLLEXPORT void pg_ingest_launcher_main(Datum) {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnection(nullptr, nullptr, 0);
    pgstat_report_appname("pg_ingest launcher");

    SharedState *s = shared();
    launch_handles = static_cast<BackgroundWorkerHandle **>(
        MemoryContextAllocZero(TopMemoryContext, sizeof(void *) * s->slot_count));
    LWLockAcquire(s->lock, LW_EXCLUSIVE);
    s->launcher_latch = MyLatch;
    s->rescan_requested = true;
    LWLockRelease(s->lock);

    bool was_enabled = ingest_enabled;
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
            if (ingest_enabled && !was_enabled) request_rescan();
            if (!ingest_enabled) stop_all_workers();
            was_enabled = ingest_enabled;
        }
        if (ingest_enabled) {
            LWLockAcquire(s->lock, LW_EXCLUSIVE);
            bool rescan = s->rescan_requested;
            s->rescan_requested = false;
            LWLockRelease(s->lock);
            if (rescan) scan_databases();
        }
        reconcile();
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1000,
                        PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
}

// Marks the started sources of one database as wanted, then exits.
PGDLLEXPORT void pg_ingest_scanner_main(Datum arg) {
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnectionByOid(DatumGetObjectId(arg), InvalidOid, 0);
    pgstat_report_appname("pg_ingest scanner");

    StartTransactionCommand();
    SPI_connect();
    PushActiveSnapshot(GetTransactionSnapshot());
    Oid extension_id = get_extension_oid("pg_ingest", true);
    if (OidIsValid(extension_id) &&
        SPI_execute("SELECT source_id FROM ingest.sources WHERE enabled AND failed_error IS NULL",
                    true, 0) == SPI_OK_SELECT) {
        SharedState *s = shared();
        LWLockAcquire(s->lock, LW_EXCLUSIVE);
        for (uint64 i = 0; i < SPI_processed; i++) {
            bool isnull;
            int32 source_id = DatumGetInt32(
                SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
            WorkerSlot *slot = find_or_add_slot(MyDatabaseId, source_id, 0, "");
            if (slot == nullptr) {
                ereport(WARNING, (errmsg("pg_ingest: no free worker slot for source %d", source_id),
                                  errhint("Raise pg_ingest.max_sources.")));
                continue;
            }
            // Not want_slot: a rescan keeps a failing worker's backoff.
            slot->wanted = true;
            slot->extension_id = extension_id;
        }
        LWLockRelease(s->lock);
    }
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
    wake_launcher();
}

}  // extern "C"
