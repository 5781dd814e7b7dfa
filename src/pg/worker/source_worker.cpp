// A source worker: loads one source's files in name order, one worker of the source per file.
// Worker 0 also watches the directory, waiting on its latch and on inotify together with a
// periodic rescan as the fallback, and wakes its siblings when it registers files; the others
// wait on their latch, with the rescan interval as their fallback.
#include "pg/access/allowed_directories.hpp"
#include "core/discovery/arrival_tracker.hpp"
#include "pg/worker/buffer_prefault.hpp"
#include "pg/worker/directory_claim.hpp"
#include "pg/catalog/file_catalog.hpp"
#include "pg/catalog/file_claim.hpp"
#include "pg/catalog/file_retention.hpp"
#include "pg/load/file_change.hpp"
#include "pg/load/file_loader.hpp"
#include "pg/load/known_file_change.hpp"
#include "pg/catalog/file_name_text.hpp"
#include "pg/support/guc_settings.hpp"
#include "pg/worker/launcher.hpp"
#include "pg/support/pg_compat.hpp"
#include "pg/support/pg_guard.hpp"
#include "pg/worker/shared_state.hpp"
#include "pg/catalog/source_definition.hpp"
#include "pg/insert/citus_target.hpp"
#include "pg/insert/statement_failure.hpp"
#include "pg/insert/target_cache.hpp"
#include "pg/worker/source_metrics.hpp"
#include "pg/support/time_convert.hpp"
#include "pg/access/owner_check.hpp"
#include "pg/access/owner_settings.hpp"
#include "pg/worker/worker_progress.hpp"
#include "pg/support/worker_transaction.hpp"

#include <memory>
#include <vector>

extern "C" {
#include <malloc.h>
#include <time.h>

#include "access/xact.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
}

namespace pg_ingest {

namespace {

constexpr int64_t kPurgeIntervalNs = int64_t{3600} * kNanosecondsPerSecond;
// A files_retention pass starts this long after the last one ended, or after the retention
// itself when that is shorter (at least a second). A pass reads every row of ingest.files (in
// steps, see file_retention.hpp), whatever their age: about 2,000 steps for 1,000,000 rows.
constexpr int64_t kFilesPurgeIntervalNs = kPurgeIntervalNs;
// After another server interrupted a file: long enough not to spin while a node restarts.
constexpr long kAnotherServerRetryMs = 1000;

// What the worker's ingest.status.last_error shows, and when that is past and cleared.
enum class ShownError {
    none,
    lasting,      // a warning that holds until the worker restarts (a Citus owner's rights)
    round,        // a round failed: past once a round ends without a new error
    failed_file,  // a file failed: past once, in addition, no file of the source is failed
};

// This process's worker: set once as it attaches, for its whole life.
struct WorkerContext {
    SourceDefinition *source = nullptr;
    WorkerSlot *slot = nullptr;
    int worker_index = 0;
    Oid extension_id = InvalidOid;  // the catalog's incarnation the worker acts for
    WaitEventSet *wait_set = nullptr;
    int64_t last_full_scan_ns = 0;
    int64_t last_purge_ns = 0;  // 0: purge at the next round
    // files_retention (worker 0): the pass under way, and when the last one ended (0: never).
    bool purging_files = false;
    PurgePass files_purge = {};
    int64_t last_files_purge_ns = 0;
    // A Citus target's prepared transactions are resolved before the next file: at start (a
    // crash may have left some) and after another server interrupted a file.
    bool resolve_prepared_first = true;
    ShownError shown_error = ShownError::none;
    int64 errors_shown = 0;  // counts show_error calls: a round that adds none was healthy
};

WorkerContext worker;

// Worker 0's directory watch: C++ objects, static so that an ERROR's longjmp out of a round
// never skips their destructors. arrivals and skipped are refilled each round.
struct WatchState {
    std::unique_ptr<ArrivalTracker> tracker;
    std::vector<FileIdentity> arrivals;
    std::vector<ScanEntry> skipped;
};

WatchState &watch_state() {
    static WatchState state;
    return state;
}

// Shorthands for the fields every function here reads.
SourceDefinition *&source = worker.source;
WorkerSlot *&slot = worker.slot;

int64_t now_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ns_from_timespec(ts);
}

void show_error(WorkerState state, const char *message, ShownError kind) {
    report_state(slot, state, message);
    worker.shown_error = kind;
    worker.errors_shown++;
}

// After a round that showed no new error: clears the error shown once its cause is past, so
// that last_error tells the present (a directory back, space freed, the failed file retried or
// skipped).
void clear_error_when_past() {
    if (worker.shown_error != ShownError::round && worker.shown_error != ShownError::failed_file)
        return;
    if (worker.shown_error == ShownError::failed_file) {
        begin_worker_transaction();
        bool failed = has_failed_files(source);
        commit_worker_transaction();
        if (failed) return;
    }
    clear_error(slot);
    worker.shown_error = ShownError::none;
}

void release_slot(int, Datum) {
    SharedState *s = shared();
    LWLockAcquire(s->lock, LW_EXCLUSIVE);
    note_worker_exit(slot);
    LWLockRelease(s->lock);
    wake_launcher();
}

// Takes the slot the launcher prepared, before connecting, so a worker for a source that was
// stopped (or a database being dropped) in the meantime leaves without touching the database.
void claim_slot(int index, Oid database_id, int32 source_id) {
    SharedState *s = shared();
    LWLockAcquire(s->lock, LW_EXCLUSIVE);
    WorkerSlot *candidate = &s->slots[index];
    bool mine = candidate->in_use && candidate->database_id == database_id &&
                candidate->source_id == source_id && candidate->wanted && candidate->pid == 0;
    if (mine) {
        candidate->pid = MyProcPid;
        candidate->latch = MyLatch;
        candidate->launching = false;
        candidate->attached_at = GetCurrentTimestamp();
        candidate->last_error[0] = '\0';
        candidate->state = WorkerState::starting;
    } else if (candidate->in_use && candidate->database_id == database_id &&
               candidate->source_id == source_id) {
        candidate->launching = false;
    }
    LWLockRelease(s->lock);
    if (!mine) proc_exit(0);
    slot = candidate;
    worker.worker_index = candidate->worker_index;
    worker.extension_id = candidate->extension_id;
    before_shmem_exit(release_slot, 0);
}

// Leaves for good: the launcher does not start the worker again.
[[noreturn]] void leave_unwanted() {
    SharedState *s = shared();
    LWLockAcquire(s->lock, LW_EXCLUSIVE);
    slot->wanted = false;
    LWLockRelease(s->lock);
    proc_exit(0);
}

// Run at the start of every worker transaction: the worker acts for the sources of one
// pg_ingest extension only, the one its slot was started for. Once that extension is gone, by
// whatever route (DROP EXTENSION, DROP SCHEMA ingest CASCADE, DROP OWNED BY its owner), the
// worker leaves before it reads or writes anything, even when a new extension has sources with
// the same ids.
void leave_if_catalog_replaced() {
    if (get_extension_oid("pg_ingest", true) == worker.extension_id) return;
    ereport(LOG, (errmsg("pg_ingest worker for source %d stops: the pg_ingest extension it was "
                         "started for was dropped",
                         slot->source_id)));
    leave_unwanted();
}

// After an error, before it is reported: an error caused by the drop of the catalog is no error
// of the source's, and the worker leaves without a word about it.
void leave_if_catalog_replaced_after_error() {
    StartTransactionCommand();
    leave_if_catalog_replaced();
    CommitTransactionCommand();
}

// The library's statements expect the catalog of its own version. After a library upgrade the
// catalog follows with ALTER EXTENSION pg_ingest UPDATE, which restarts the workers.
const char *catalog_version_mismatch() {
    int ret = SPI_execute(
        "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_ingest'", true, 1);
    if (ret != SPI_OK_SELECT || SPI_processed != 1) return "extension pg_ingest is not installed";
    char *version = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    if (strcmp(version, PG_INGEST_VERSION) == 0) return nullptr;
    return MemoryContextStrdup(
        TopMemoryContext,
        psprintf("the catalog is pg_ingest %s but the library is %s: run ALTER EXTENSION "
                 "pg_ingest UPDATE",
                 version, PG_INGEST_VERSION));
}

// Touches nothing until stopped (the update stops it); says why in the log and ingest.status.
void wait_for_catalog_update(const char *mismatch) {
    ereport(LOG,
            (errmsg("pg_ingest worker for source %d is waiting: %s", slot->source_id, mismatch)));
    report_state(slot, WorkerState::needs_update, mismatch);
    for (;;) {
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
    }
}

// Leaves for good (the launcher does not restart it) with the source marked failed.
void fail_source_and_exit(const char *message) {
    ereport(LOG, (errmsg("pg_ingest source \"%s\" stopped: %s", source->name, message)));
    note_worker_error();
    begin_worker_transaction();
    fail_source(source->source_id, message);
    commit_worker_transaction();
    SharedState *s = shared();
    LWLockAcquire(s->lock, LW_EXCLUSIVE);
    stop_source_workers(slot->database_id, slot->source_id, MyProcPid);
    LWLockRelease(s->lock);
    proc_exit(0);
}

void remember_known(const char *name, int64 size, TimestampTz mtime, int64 inode, void *) {
    int64_t mtime_ns = ns_from_timestamptz(mtime);
    cpp_guard([&] {
        watch_state().tracker->remember(FileIdentity{name, static_cast<uint64_t>(size), mtime_ns,
                                                     static_cast<uint64_t>(inode)});
    });
}

void start_waiting() {
    worker.wait_set = create_process_wait_event_set(3);
    AddWaitEventToSet(worker.wait_set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, nullptr);
    AddWaitEventToSet(worker.wait_set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, nullptr, nullptr);
}

void start_watching() {
    cpp_guard([] {
        watch_state().tracker =
            std::make_unique<ArrivalTracker>(source->directory, source->pattern, source->min_age_ms,
                                             poll_interval_ms, source->ready_marker);
    });
    begin_worker_transaction();
    for_each_known_file(source, remember_known, nullptr);
    commit_worker_transaction();

    start_waiting();
    int fd = cpp_guard([] { return watch_state().tracker->watch_fd(); });
    if (fd >= 0)
        AddWaitEventToSet(worker.wait_set, WL_SOCKET_READABLE, fd, nullptr, nullptr);
    else
        ereport(LOG, (errmsg("pg_ingest source \"%s\": inotify is not available for \"%s\"; "
                             "rescanning every %d ms",
                             source->name, source->directory, poll_interval_ms)));
}

char *describe_file_failure(const FileRow *file, int64 line, const char *reason);

// on_file_change = replace: a file whose bytes changed is loaded again as a whole, in place of
// its rows (request_replace); true when that was asked. Otherwise it fails.
bool replace_changed_file(const FileRow *file, FileChange change) {
    if (source->on_file_change != FileChangeMode::replace || change == FileChange::replaced ||
        change == FileChange::none)
        return false;
    if (request_replace(file))
        ereport(LOG, (errmsg("pg_ingest source \"%s\": file \"%s\" %s: it is loaded again as a "
                             "whole, in place of its rows",
                             source->name, file->file_name, file_change_name(change))));
    return true;
}

// A done file whose bytes changed after its load is failed, saying how and what fixes it; with
// on_file_change = replace it is loaded again instead.
void settle_changed_loaded_file(const Arrival &arrival) {
    if (replace_changed_file(&arrival.file, arrival.change)) return;
    char *message = describe_file_failure(&arrival.file, 0, arrival.reason);
    ereport(LOG, (errmsg("pg_ingest file failed: %s", message)));
    fail_changed_file(arrival.file.file_id, message);
}

// Puts newly arrived files into ingest.files as pending; a known file seen with another size or
// mtime is judged by its bytes (known_file_change.hpp).
void register_arrivals() {
    WatchState &watch = watch_state();
    const std::vector<FileIdentity> &arrivals = watch.arrivals;
    const std::vector<ScanEntry> &skipped = watch.skipped;
    int64_t now = now_ns();
    bool full_scan = now - worker.last_full_scan_ns >=
                     static_cast<int64_t>(poll_interval_ms) * kNanosecondsPerMillisecond;
    cpp_guard([&] {
        if (watch.tracker->drain_events()) full_scan = true;
        watch.arrivals = watch.tracker->collect(full_scan, now);
        watch.skipped = watch.tracker->take_skipped();
    });
    if (full_scan) worker.last_full_scan_ns = now;
    for (size_t i = 0; i < skipped.size(); i++)
        ereport(LOG, (errmsg("pg_ingest source \"%s\": skipping \"%s\": %s", source->name,
                             file_name_text(skipped[i].identity.name.c_str()),
                             skipped[i].note.c_str())));
    if (arrivals.empty()) return;
    std::vector<bool> deferred(arrivals.size(), false);
    begin_worker_transaction();
    for (size_t i = 0; i < arrivals.size(); i++) {
        const FileIdentity &file = arrivals[i];
        Arrival arrival =
            settle_arrival(source, file.name.c_str(), static_cast<int64>(file.size),
                           timestamptz_from_ns(file.mtime_ns), static_cast<int64>(file.inode));
        deferred[i] = arrival.outcome == ArrivalOutcome::deferred;
        if (arrival.outcome == ArrivalOutcome::changed) settle_changed_loaded_file(arrival);
    }
    commit_worker_transaction();
    // A file being loaded is looked at again once its load is over (it may have failed it).
    int64_t again = now + static_cast<int64_t>(poll_interval_ms) * kNanosecondsPerMillisecond;
    cpp_guard([&] {
        for (size_t i = 0; i < arrivals.size(); i++) {
            if (deferred[i])
                watch.tracker->look_again(arrivals[i].name, again);
            else
                watch.tracker->remember(arrivals[i]);
        }
    });
    wake_sibling_workers(slot->database_id, slot->source_id);
}

// What ingest.files.error says: the source, the file, the line loading stood at, and why.
char *describe_file_failure(const FileRow *file, int64 line, const char *reason) {
    if (line > 0)
        return psprintf("source \"%s\", file \"%s\", line %lld: %s", source->name, file->file_name,
                        static_cast<long long>(line), reason);
    return psprintf("source \"%s\", file \"%s\": %s", source->name, file->file_name, reason);
}

bool target_is_gone() {
    begin_worker_transaction();
    bool gone = !SearchSysCacheExists1(RELOID, ObjectIdGetDatum(source->target));
    commit_worker_transaction();
    return gone;
}

// Before a file, when due: resolves what a crash left prepared on a Citus target's nodes, so that
// no batch waits on it (citus_target.hpp). Shown in ingest.status when the owner may not.
void resolve_prepared_transactions_when_due() {
    if (!worker.resolve_prepared_first) return;
    begin_worker_transaction();
    PreparedRecoveryResult result = recover_citus_prepared_transactions(source);
    commit_worker_transaction();
    worker.resolve_prepared_first = false;
    if (result.outcome == PreparedRecovery::recovered && result.resolved > 0)
        ereport(LOG, (errmsg("pg_ingest source \"%s\": resolved %d prepared transactions on the "
                             "Citus nodes before loading",
                             source->name, result.resolved)));
    if (result.outcome != PreparedRecovery::not_permitted) return;
    char *message = psprintf(
        "target is a Citus table and the source's owner may not execute "
        "recover_prepared_transactions(): after a crash a batch can wait for a prepared "
        "transaction that Citus's recovery skips; GRANT EXECUTE ON FUNCTION "
        "recover_prepared_transactions() TO %s",
        quote_identifier(GetUserNameFromId(source->owner, false)));
    ereport(WARNING, (errmsg("pg_ingest source \"%s\": %s", source->name, message)));
    show_error(WorkerState::loading, message, ShownError::lasting);
}

// How a file's turn ended: settled (loaded, failed, or given back to be resumed at once), or
// interrupted by another server, which the worker gives a moment before the next round.
enum class FileTurn { settled, interrupted_by_another_server };

// A split file done with the bytes it was planned with, which grew since: failed as a done file
// that grew (known_file_change.hpp), for retry_file to load the rest as a whole file.
void fail_if_growth_left_behind(const FileRow *file) {
    int64 grown = growth_left_behind();
    if (grown == 0) return;
    begin_worker_transaction();
    fail_changed_file(
        file->file_id,
        describe_file_failure(
            file, 0, describe_size_change(file->file_name, file->size, grown, file->size)));
    commit_worker_transaction();
    note_file_failed();
}

// After a load ended by an ERROR: a change of the file's bytes that on_file_change = replace
// loads again (the file as claimed is the version the load judged). True when it does.
bool load_again_when_changed(const FileRow *file) {
    FileChange change = change_raised_for(file->file_id);
    if (source->on_file_change != FileChangeMode::replace || change == FileChange::none ||
        change == FileChange::replaced)
        return false;
    begin_worker_transaction();
    replace_changed_file(file, change);
    commit_worker_transaction();
    return true;
}

// Loads one file; a file-level failure marks the file failed and the worker goes on.
FileTurn load_one(FileRow *file) {
    MemoryContext context = CurrentMemoryContext;
    // volatile: assigned between PG_TRY's setjmp and its longjmp, read after it.
    ErrorData *volatile error = nullptr;
    PG_TRY();
    { load_file(source, file, slot); }
    PG_CATCH();
    {
        MemoryContextSwitchTo(context);
        error = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();
    if (error == nullptr) {
        fail_if_growth_left_behind(file);
        return FileTurn::settled;
    }

    AbortCurrentTransaction();
    leave_if_catalog_replaced_after_error();
    abandon_file_load();
    // The owner's statement_timeout fails the file, as it would fail the owner's COPY.
    if (error->sqlerrcode == ERRCODE_QUERY_CANCELED && !take_owner_statement_timeout()) {
        // Not the file's fault: it stays loading and resumes from its committed offset.
        ereport(LOG, (errmsg("pg_ingest source \"%s\": loading \"%s\" was canceled", source->name,
                             file->file_name)));
        note_worker_error();
        return FileTurn::settled;
    }
    if (failure_is_another_servers(error)) {
        // Not the file's fault either: a Citus node or foreign server crashed or restarted.
        char *message = psprintf(
            "%s; the file stays loading and resumes from its committed offset once every server "
            "the target is stored on accepts connections again",
            describe_file_failure(file, current_load_line(), error->message));
        ereport(LOG, (errmsg("pg_ingest source \"%s\": %s", source->name, message)));
        show_error(WorkerState::retrying, message, ShownError::round);
        note_worker_error();
        worker.resolve_prepared_first = true;
        return FileTurn::interrupted_by_another_server;
    }
    if (load_again_when_changed(file)) return FileTurn::settled;
    int64 line = current_load_line();
    if (target_is_gone()) {
        // Not the file's fault: it stays where it is and resumes once the source is started
        // again on a target that exists.
        fail_source_and_exit(describe_file_failure(file, line, "target table no longer exists"));
    }
    char *message = describe_file_failure(file, line, error->message);
    ereport(LOG, (errmsg("pg_ingest file failed: %s", message)));
    show_error(WorkerState::idle, message, ShownError::failed_file);
    begin_worker_transaction();
    fail_file(file->file_id, message);
    commit_worker_transaction();
    note_file_failed();
    return FileTurn::settled;
}

// Leaves with the source failed when its target is gone or its owner lost a right the source
// needs (owner_refusal): before the worker watches, lists or reads anything for the owner.
void check_source_or_exit() {
    begin_worker_transaction();
    const char *refusal = !SearchSysCacheExists1(RELOID, ObjectIdGetDatum(source->target))
                              ? "target table no longer exists"
                              : owner_refusal(source);
    // The transaction's memory goes with its commit.
    if (refusal != nullptr) refusal = MemoryContextStrdup(TopMemoryContext, refusal);
    commit_worker_transaction();
    if (refusal != nullptr) fail_source_and_exit(refusal);
}

void check_allowed(const char *purpose, const char *directory) {
    DirectoryAllowance allowance = allowance_of(source->name, purpose, directory);
    if (allowance.allowed) return;
    const char *refusal = directory_refusal(source->name, purpose, directory);
    if (strcmp(allowance.resolved, directory) != 0)
        refusal = psprintf("%s (it resolves to \"%s\")", refusal, allowance.resolved);
    fail_source_and_exit(refusal);
}

// How long worker 0 may wait for inotify before its next rescan or a file's coming of age.
long watch_timeout_ms() {
    int64_t now = now_ns();
    int64_t until_scan =
        (worker.last_full_scan_ns +
         static_cast<int64_t>(poll_interval_ms) * kNanosecondsPerMillisecond - now) /
        kNanosecondsPerMillisecond;
    int64_t until_ready = cpp_guard([&] { return watch_state().tracker->next_check_ms(now); });
    int64_t wait = Max(until_scan, 1);
    if (until_ready >= 0) wait = Min(wait, Max(until_ready, 1));
    return static_cast<long>(wait);
}

bool files_purge_due() {
    if (worker.worker_index != 0 || files_retention_seconds == kKeepFilesForever) return false;
    if (worker.purging_files || worker.last_files_purge_ns == 0) return true;
    int64_t interval =
        Max(Min(kFilesPurgeIntervalNs, int64_t{files_retention_seconds} * kNanosecondsPerSecond),
            kNanosecondsPerSecond);
    return now_ns() - worker.last_files_purge_ns >= interval;
}

// When no file waits: one step of the files_retention pass, in its own transaction. True when
// the pass goes on: the next round comes at once, and loads first whatever arrived meanwhile.
bool purge_files_when_due() {
    if (!files_purge_due()) return false;
    if (!worker.purging_files) worker.files_purge = PurgePass{};
    worker.purging_files = true;
    begin_worker_transaction();
    PurgeProgress progress = purge_step(source, files_retention_seconds, &worker.files_purge);
    commit_worker_transaction();
    if (progress == PurgeProgress::more_to_do) return true;
    worker.purging_files = false;
    worker.last_files_purge_ns = now_ns();
    if (worker.files_purge.purged > 0)
        ereport(LOG, (errmsg("pg_ingest source \"%s\": purged %lld rows of ingest.files older "
                             "than pg_ingest.files_retention",
                             source->name, static_cast<long long>(worker.files_purge.purged))));
    return false;
}

// One round of work; returns how long to wait for events before the next (0 = go on at once).
long run_once(MemoryContext round_context) {
    // A claim left by a round that failed after its file.
    release_file_claims();
    // Before the directory is listed or a file read for the owner.
    check_source_or_exit();
    // Before anything is read: an administrator may have narrowed the allowed directories.
    check_allowed("directory", source->directory);
    if (source->on_success == OnSuccess::Move)
        check_allowed("archive directory", source->archive_directory);
    if (worker.worker_index == 0) register_arrivals();
    FileRow file;
    begin_worker_transaction();
    refresh_owner_settings(source->owner);
    if (worker.worker_index == 0 &&
        (worker.last_purge_ns == 0 || now_ns() - worker.last_purge_ns >= kPurgeIntervalNs)) {
        purge_rejects(source, rejects_retention_minutes);
        worker.last_purge_ns = now_ns();
    }
    bool found = next_open_file(source, round_context, &file);
    commit_worker_transaction();
    if (found) {
        resolve_prepared_transactions_when_due();
        FileTurn turn = load_one(&file);
        release_file_claims();
        return turn == FileTurn::settled ? 0 : kAnotherServerRetryMs;
    }
    report_state(slot, WorkerState::idle);
    if (purge_files_when_due()) return 0;
    // Worker 0 wakes the others when it registers files; the interval covers retried files.
    return worker.worker_index == 0 ? watch_timeout_ms() : poll_interval_ms;
}

void wait_for_events(long timeout_ms) {
    WaitEvent event;
    int count = WaitEventSetWait(worker.wait_set, timeout_ms, &event, 1, PG_WAIT_EXTENSION);
    if (count > 0 && (event.events & WL_LATCH_SET)) ResetLatch(MyLatch);
}

// The worker's entry: signals, memory behaviour, its slot, and a connection to its database
// with the session settings every statement relies on.
void enter_worker(int slot_index, Oid database_id, int32 source_id) {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    // Every batch allocates and frees the same few megabytes: keep freed memory in the process
    // instead of handing it back to the kernel and faulting it in again for the next batch.
    mallopt(M_TRIM_THRESHOLD, 16 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    claim_slot(slot_index, database_id, source_id);
    BackgroundWorkerInitializeConnectionByOid(database_id, InvalidOid, 0);
    pin_worker_settings();
    check_every_worker_transaction(leave_if_catalog_replaced);
}

// Reads the source; leaves (not to be restarted) when it is gone, stopped or failed, or when
// this worker is beyond its `workers` (lowered meanwhile). Waits while the catalog needs an
// update.
void read_source(int32 source_id) {
    begin_worker_transaction();
    const char *mismatch = catalog_version_mismatch();
    commit_worker_transaction();
    if (mismatch != nullptr) wait_for_catalog_update(mismatch);
    begin_worker_transaction();
    source = read_source_definition(source_id);
    commit_worker_transaction();
    if (source == nullptr || !source->runnable || worker.worker_index >= source->workers)
        leave_unwanted();
}

// A claim names the source's directories by inode: until they can be read, worker 0 takes no
// file and shows why as `retrying` (logged once).
void wait_for_directories(const char *archive_directory) {
    bool logged = false;
    for (;;) {
        char *problem = unreadable_directory(source->directory);
        if (problem == nullptr && archive_directory != nullptr)
            problem = unreadable_directory(archive_directory);
        if (problem == nullptr) return;
        if (!logged) ereport(LOG, (errmsg("pg_ingest source \"%s\": %s", source->name, problem)));
        logged = true;
        report_state(slot, WorkerState::retrying, problem);
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1000,
                        PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
    }
}

// One file, one source: worker 0 claims the source's files before any worker of it takes one,
// or fails the source, naming the started source that has them.
void claim_files() {
    const char *archive_directory =
        source->on_success == OnSuccess::Move ? source->archive_directory : nullptr;
    wait_for_directories(archive_directory);
    auto *claim = static_cast<DirectoryClaim *>(palloc(sizeof(DirectoryClaim)));
    begin_worker_transaction();  // fill_claim reads the database's name
    fill_claim(claim, source->name, source->directory, source->pattern, archive_directory,
               source->ready_marker);
    commit_worker_transaction();
    char *refusal = hold_claim(slot, *claim);
    if (refusal != nullptr) fail_source_and_exit(refusal);
}

// Worker 0 claims the source's files, asks for its siblings and watches the directory; the
// others wait on their latch.
void start_work() {
    if (worker.worker_index == 0) {
        claim_files();
        int missing = want_sibling_workers(slot, source->workers);
        if (missing > 0)
            ereport(WARNING,
                    (errmsg("pg_ingest source \"%s\": no free worker slot for %d of its %d workers",
                            source->name, missing, source->workers),
                     errhint("Raise pg_ingest.max_sources and restart the server.")));
        start_watching();
        ereport(LOG, (errmsg("pg_ingest source \"%s\" started on \"%s\"", source->name,
                             source->directory)));
    } else {
        start_waiting();
        ereport(LOG, (errmsg("pg_ingest source \"%s\" worker #%d started", source->name,
                             worker.worker_index + 1)));
    }
}

// The worker attached to its source: what it loads, how it shows, what it counts.
void attach_to_source(Oid database_id, int32 source_id) {
    read_source(source_id);
    // Only a worker that is to load files; before it shows as running.
    prefault_shared_buffers();
    if (worker.worker_index == 0)
        pgstat_report_appname(psprintf("pg_ingest: %s", source->name));
    else
        pgstat_report_appname(psprintf("pg_ingest: %s #%d", source->name, worker.worker_index + 1));
    SharedState *s = shared();
    LWLockAcquire(s->lock, LW_EXCLUSIVE);
    strlcpy(slot->source_name, source->name, sizeof slot->source_name);
    LWLockRelease(s->lock);
    attach_source_metrics(database_id, source_id);
    register_target_cache();
    check_source_or_exit();
    start_work();
}

// One round, and its error: something outside any one file went wrong (the catalog, the
// directory), so the worker reports it, keeps its state, and tries again shortly.
long run_round(MemoryContext round_context) {
    volatile long wait_ms = 0;
    int64 errors_before = worker.errors_shown;
    MemoryContextReset(round_context);
    MemoryContextSwitchTo(round_context);
    PG_TRY();
    {
        wait_ms = run_once(round_context);
        if (worker.errors_shown == errors_before) clear_error_when_past();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(round_context);
        ErrorData *error = CopyErrorData();
        FlushErrorState();
        AbortCurrentTransaction();
        leave_if_catalog_replaced_after_error();
        ereport(LOG, (errmsg("pg_ingest source \"%s\": %s", source->name, error->message)));
        show_error(WorkerState::retrying, error->message, ShownError::round);
        note_worker_error();
        wait_ms = 1000;
    }
    PG_END_TRY();
    return wait_ms;
}

[[noreturn]] void work_loop() {
    MemoryContext round_context =
        AllocSetContextCreate(TopMemoryContext, "pg_ingest round", ALLOCSET_DEFAULT_SIZES);
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
            // A changed pg_ingest.rejects_retention applies now, not at the next hourly purge.
            worker.last_purge_ns = 0;
            worker.last_files_purge_ns = 0;
            forget_owner_settings();
        }
        long wait_ms = run_round(round_context);
        if (wait_ms > 0) wait_for_events(wait_ms);
    }
}

}  // namespace

}  // namespace pg_ingest

using namespace pg_ingest;

extern "C" PGDLLEXPORT void pg_ingest_source_worker_main(Datum arg) {
    Oid database_id;
    int32 source_id;
    memcpy(&database_id, MyBgworkerEntry->bgw_extra, sizeof(Oid));
    memcpy(&source_id, MyBgworkerEntry->bgw_extra + sizeof(Oid), sizeof(int32));
    enter_worker(DatumGetInt32(arg), database_id, source_id);
    attach_to_source(database_id, source_id);
    work_loop();
}
