// C functions behind the SQL surface (the SQL script wraps them in ingest.* functions).
#include "pg/access/allowed_directories.hpp"
#include "core/discovery/file_discovery.hpp"
#include "pg/catalog/file_name_text.hpp"
#include "pg/support/pg_guard.hpp"
#include "core/discovery/ready_marker.hpp"
#include "pg/worker/shared_state.hpp"
#include "pg/worker/source_metrics.hpp"
#include "pg/support/time_convert.hpp"
#include "pg/worker/worker_budget.hpp"
#include "pg/worker/worker_control.hpp"

#include <algorithm>
#include <vector>

extern "C" {
#include <sys/stat.h>
#include <unistd.h>

#include "postgres.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
// tuplestore_putvalues: up to 18 nodes/execnodes.h (through funcapi.h) included it, since 19 not.
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(ingest_caller);
PG_FUNCTION_INFO_V1(ingest_check_directory);
PG_FUNCTION_INFO_V1(ingest_check_allowed_directory);
PG_FUNCTION_INFO_V1(ingest_directory_candidates);
PG_FUNCTION_INFO_V1(ingest_signal_workers);
PG_FUNCTION_INFO_V1(ingest_source_metrics);
PG_FUNCTION_INFO_V1(ingest_copy_path_metrics);
PG_FUNCTION_INFO_V1(ingest_source_workers);
PG_FUNCTION_INFO_V1(ingest_worker_status);
}

using namespace pg_ingest;

// The outer user: changed by SET ROLE, not by SECURITY DEFINER, so the functions that run as the
// extension's owner still know on whose behalf.
Datum ingest_caller(PG_FUNCTION_ARGS) {
    PG_RETURN_OID(GetOuterUserId());
}

// Checks that the server can use a directory and returns its canonical path.
Datum ingest_check_directory(PG_FUNCTION_ARGS) {
    char *path = text_to_cstring(PG_GETARG_TEXT_PP(0));
    char *purpose = text_to_cstring(PG_GETARG_TEXT_PP(1));
    bool need_write = PG_GETARG_BOOL(2);
    struct stat st;

    if (path[0] != '/')
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s must be an absolute path: \"%s\"", purpose, path)));
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FILE),
                            errmsg("%s \"%s\" does not exist", purpose, path)));
        ereport(ERROR, (errcode_for_file_access(),
                        errmsg("could not access %s \"%s\": %m", purpose, path)));
    }
    if (!S_ISDIR(st.st_mode))
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("%s \"%s\" is not a directory", purpose, path)));
    if (access(path, R_OK | X_OK) != 0)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("%s \"%s\" is not readable by the server", purpose, path)));
    if (need_write && access(path, W_OK | X_OK) != 0)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("%s \"%s\" is not writable by the server", purpose, path)));
    char *canonical = realpath(path, nullptr);
    if (canonical == nullptr)
        ereport(ERROR, (errcode_for_file_access(),
                        errmsg("could not resolve %s \"%s\": %m", purpose, path)));
    text *result = cstring_to_text(canonical);
    free(canonical);
    PG_RETURN_TEXT_P(result);
}

// Refuses a source's directory (or archive directory) outside pg_ingest.allowed_directories.
Datum ingest_check_allowed_directory(PG_FUNCTION_ARGS) {
    char *source_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    char *purpose = text_to_cstring(PG_GETARG_TEXT_PP(1));
    char *directory = text_to_cstring(PG_GETARG_TEXT_PP(2));
    DirectoryAllowance allowance = allowance_of(source_name, purpose, directory);
    if (!allowance.allowed)
        ereport(ERROR,
                (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                 errmsg_internal("%s", directory_refusal(source_name, purpose, directory)),
                 strcmp(allowance.resolved, directory) == 0
                     ? 0
                     : errdetail("\"%s\" resolves to \"%s\".", directory, allowance.resolved)));
    PG_RETURN_VOID();
}

// Regular files in the directory that the pattern selects, with their identity. With a
// ready_marker suffix, markers are left out, and so are data files whose marker is missing.
Datum ingest_directory_candidates(PG_FUNCTION_ARGS) {
    // Static, so that an ERROR's longjmp (out of tuplestore_putvalues, say) never skips its
    // destructor; emptied, with its memory, once the rows are out.
    static std::vector<ScanEntry> entries;
    char *directory = text_to_cstring(PG_GETARG_TEXT_PP(0));
    char *pattern = text_to_cstring(PG_GETARG_TEXT_PP(1));
    // The three-argument form also takes the ready_marker suffix ("" when not used).
    char *marker_suffix = PG_NARGS() > 2 ? text_to_cstring(PG_GETARG_TEXT_PP(2)) : pstrdup("");
    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);

    bool listed = cpp_guard([&] {
        try {
            entries = scan_directory(directory, pattern);
            ReadyMarker marker(marker_suffix);
            entries.erase(std::remove_if(entries.begin(), entries.end(),
                                         [&](const ScanEntry &entry) {
                                             const std::string &name = entry.identity.name;
                                             return marker.is_marker(name) ||
                                                    !marker.data_is_ready(directory, name);
                                         }),
                          entries.end());
            return true;
        } catch (const std::system_error &) {
            std::vector<ScanEntry>().swap(entries);
            return false;  // a vanished directory has nothing pending
        }
    });
    if (!listed) PG_RETURN_VOID();
    for (size_t i = 0; i < entries.size(); i++) {
        const ScanEntry &entry = entries[i];
        if (!entry.regular) continue;
        Datum values[4];
        bool nulls[4] = {false, false, false, false};
        values[0] = CStringGetTextDatum(file_name_text(entry.identity.name.c_str()));
        values[1] = Int64GetDatum(static_cast<int64>(entry.identity.size));
        values[2] = TimestampTzGetDatum(timestamptz_from_ns(entry.identity.mtime_ns));
        values[3] = Int64GetDatum(static_cast<int64>(entry.identity.inode));
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    cpp_guard([] { std::vector<ScanEntry>().swap(entries); });
    PG_RETURN_VOID();
}

namespace {

// The source's name, "" when it is gone.
const char *source_name_of(int32 source_id) {
    Oid types[1] = {INT4OID};
    Datum values[1] = {Int32GetDatum(source_id)};
    SPI_connect();
    const char *found = "";
    if (SPI_execute_with_args("SELECT name FROM ingest.sources WHERE source_id = $1", 1, types,
                              values, nullptr, true, 1) == SPI_OK_SELECT &&
        SPI_processed == 1)
        found = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    // In the caller's memory: SPI_finish frees the query's.
    char *name = static_cast<char *>(SPI_palloc(strlen(found) + 1));
    strcpy(name, found);
    SPI_finish();
    return name;
}

}  // namespace

// Queues start (run) or stop requests for the given sources, applied at commit.
Datum ingest_signal_workers(PG_FUNCTION_ARGS) {
    ArrayType *ids = PG_GETARG_ARRAYTYPE_P(0);
    bool run = PG_GETARG_BOOL(1);
    Datum *elements;
    bool *nulls;
    int count;
    deconstruct_array(ids, INT4OID, sizeof(int32), true, TYPALIGN_INT, &elements, &nulls, &count);
    shared();
    for (int i = 0; i < count; i++)
        if (!nulls[i]) {
            int32 source_id = DatumGetInt32(elements[i]);
            queue_source_signal(source_id, run, run ? source_name_of(source_id) : "");
        }
    PG_RETURN_VOID();
}

namespace {

double rows_per_second(const WorkerSlot *slot, TimestampTz now) {
    int64 now_second = now / USECS_PER_SEC;
    int64 rows = 0;
    for (int i = 0; i < kRateWindowSeconds; i++)
        if (now_second - slot->rate_second[i] < kRateWindowSeconds) rows += slot->rate_rows[i];
    return static_cast<double>(rows) / kRateWindowSeconds;
}

// Running for a source of this database's extension (not one dropped since, whose source ids a
// new one may reuse), or waiting for a background worker slot (then without a pid).
bool is_running_here(const WorkerSlot *slot, Oid extension_id) {
    return slot->in_use && slot->database_id == MyDatabaseId &&
           slot->extension_id == extension_id && (slot->pid != 0 || waits_for_worker(slot));
}

// The worker to show for a source in one row: a loading one before an idle one, then the lowest
// worker index (worker 0 watches the directory).
bool shows_before(const WorkerSlot *candidate, const WorkerSlot *shown) {
    bool candidate_loads = candidate->state == WorkerState::loading;
    bool shown_loads = shown->state == WorkerState::loading;
    if (candidate_loads != shown_loads) return candidate_loads;
    return candidate->worker_index < shown->worker_index;
}

}  // namespace

// Live state of this database's sources, one row per source with running workers: the state,
// pid and current file of the worker shown (see shows_before), the rows/s of all its workers,
// and the last error of the lowest-numbered worker that has one.
Datum ingest_worker_status(PG_FUNCTION_ARGS) {
    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    SharedState *s = shared();
    TimestampTz now = GetCurrentTimestamp();
    Oid extension_id = get_extension_oid("pg_ingest", false);
    LWLockAcquire(s->lock, LW_SHARED);
    for (int i = 0; i < s->slot_count; i++) {
        const WorkerSlot *first = &s->slots[i];
        if (!is_running_here(first, extension_id)) continue;
        // Each source once: at the first of its running slots.
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = is_running_here(&s->slots[j], extension_id) &&
                   s->slots[j].source_id == first->source_id;
        if (seen) continue;
        const WorkerSlot *shown = first;
        const WorkerSlot *with_error = nullptr;
        double rate = 0;
        for (int j = i; j < s->slot_count; j++) {
            const WorkerSlot *slot = &s->slots[j];
            if (!is_running_here(slot, extension_id) || slot->source_id != first->source_id)
                continue;
            if (shows_before(slot, shown)) shown = slot;
            if (slot->last_error[0] != '\0' &&
                (with_error == nullptr || slot->worker_index < with_error->worker_index))
                with_error = slot;
            rate += rows_per_second(slot, now);
        }
        Datum values[7];
        bool nulls[7] = {false, false, false, false, false, false, false};
        values[0] = Int32GetDatum(shown->source_id);
        nulls[1] = shown->pid == 0;
        values[1] = Int32GetDatum(shown->pid);
        values[2] = CStringGetTextDatum(state_name(shown->state));
        nulls[3] = shown->current_file[0] == '\0';
        values[3] = CStringGetTextDatum(shown->current_file);
        nulls[4] = nulls[3];
        values[4] = Int64GetDatum(shown->current_offset);
        values[5] = Float8GetDatum(rate);
        nulls[6] = with_error == nullptr;
        values[6] = CStringGetTextDatum(with_error == nullptr ? "" : with_error->last_error);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    LWLockRelease(s->lock);
    PG_RETURN_VOID();
}

// Live state of each running worker of this database's sources, numbered from 1 as in their
// application_name.
Datum ingest_source_workers(PG_FUNCTION_ARGS) {
    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    SharedState *s = shared();
    TimestampTz now = GetCurrentTimestamp();
    Oid extension_id = get_extension_oid("pg_ingest", false);
    LWLockAcquire(s->lock, LW_SHARED);
    for (int i = 0; i < s->slot_count; i++) {
        const WorkerSlot *slot = &s->slots[i];
        if (!is_running_here(slot, extension_id)) continue;
        Datum values[8];
        bool nulls[8] = {false, false, false, false, false, false, false, false};
        values[0] = Int32GetDatum(slot->source_id);
        values[1] = Int32GetDatum(slot->worker_index + 1);
        nulls[2] = slot->pid == 0;
        values[2] = Int32GetDatum(slot->pid);
        values[3] = CStringGetTextDatum(state_name(slot->state));
        nulls[4] = slot->current_file[0] == '\0';
        values[4] = CStringGetTextDatum(slot->current_file);
        nulls[5] = nulls[4];
        values[5] = Int64GetDatum(slot->current_offset);
        values[6] = Float8GetDatum(rows_per_second(slot, now));
        nulls[7] = slot->last_error[0] == '\0';
        values[7] = CStringGetTextDatum(slot->last_error);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    LWLockRelease(s->lock);
    PG_RETURN_VOID();
}

namespace {

// A copy of the counters of this database's sources, out of shared memory; returns how many.
int snapshot_this_database(SourceMetrics **entries) {
    shared();
    int capacity = source_metrics_capacity();
    *entries = static_cast<SourceMetrics *>(palloc(sizeof(SourceMetrics) * capacity));
    return snapshot_database_metrics(MyDatabaseId, *entries, capacity);
}

}  // namespace

// Counters since server start of this database's sources, from shared memory.
Datum ingest_source_metrics(PG_FUNCTION_ARGS) {
    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    SourceMetrics *entries = nullptr;
    int count = snapshot_this_database(&entries);
    for (int i = 0; i < count; i++) {
        const SourceMetrics &entry = entries[i];
        Datum values[10];
        bool nulls[10] = {false, false, false, false, false, false, false, false, false, false};
        values[0] = Int32GetDatum(entry.source_id);
        values[1] = Int64GetDatum(entry.files_done);
        values[2] = Int64GetDatum(entry.files_failed);
        values[3] = Int64GetDatum(entry.rows_loaded);
        values[4] = Int64GetDatum(entry.rows_rejected);
        values[5] = Int64GetDatum(entry.bytes_read);
        values[6] = Int64GetDatum(entry.batches);
        values[7] = Int64GetDatum(entry.errors);
        values[8] = Float8GetDatum(static_cast<double>(entry.busy_microseconds) / USECS_PER_SEC);
        nulls[9] = entry.last_file_at == 0;
        values[9] = TimestampTzGetDatum(entry.last_file_at);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    PG_RETURN_VOID();
}

// The batches of this database's sources by COPY path (a function of its own: changing the
// columns of ingest._source_metrics would need it dropped, and ingest.metrics with it).
Datum ingest_copy_path_metrics(PG_FUNCTION_ARGS) {
    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    SourceMetrics *entries = nullptr;
    int count = snapshot_this_database(&entries);
    for (int i = 0; i < count; i++) {
        Datum values[3] = {Int32GetDatum(entries[i].source_id),
                           Int64GetDatum(entries[i].batches_direct_copy),
                           Int64GetDatum(entries[i].batches_spi_copy)};
        bool nulls[3] = {false, false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    PG_RETURN_VOID();
}
