#include "pg/worker/source_metrics.hpp"

#include "pg/worker/shared_memory.hpp"
#include "pg/worker/shared_state.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"
}

namespace pg_ingest {

namespace {

struct MetricsTable {
    LWLock *lock;
    int capacity;
    SourceMetrics entries[FLEXIBLE_ARRAY_MEMBER];
};

MetricsTable *table = nullptr;
shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;

// This worker's entry and where its current file load stands; nullptr outside source workers.
SourceMetrics *mine = nullptr;
int64 file_offset = 0;
TimestampTz busy_since = 0;

int capacity() {
    return 2 * max_sources;
}

Size table_size() {
    return add_size(offsetof(MetricsTable, entries), mul_size(capacity(), sizeof(SourceMetrics)));
}

constexpr char kSharedName[] = "pg_ingest metrics";

void on_shmem_request() {
    if (previous_request_hook) previous_request_hook();
    request_shared_struct(kSharedName, table_size());
}

void initialize_table(void *shared, LWLock *lock) {
    auto *created = static_cast<MetricsTable *>(shared);
    created->lock = lock;
    created->capacity = capacity();
}

// Runs in the postmaster at start and after every crash, which is what resets the counters.
void on_shmem_startup() {
    if (previous_startup_hook) previous_startup_hook();
    table = static_cast<MetricsTable *>(
        attach_shared_struct(kSharedName, table_size(), initialize_table));
}

void start_entry(SourceMetrics *entry, Oid database_id, int32 source_id) {
    memset(entry, 0, sizeof *entry);
    entry->in_use = true;
    entry->database_id = database_id;
    entry->source_id = source_id;
}

// The source's entry, else a free one, else the one of the source idle longest without a worker.
SourceMetrics *claim_entry(Oid database_id, int32 source_id) {
    SourceMetrics *free_entry = nullptr;
    SourceMetrics *oldest = nullptr;
    for (int i = 0; i < table->capacity; i++) {
        SourceMetrics *entry = &table->entries[i];
        if (!entry->in_use) {
            if (free_entry == nullptr) free_entry = entry;
            continue;
        }
        if (entry->database_id == database_id && entry->source_id == source_id) return entry;
        if (!entry->attached &&
            (oldest == nullptr || entry->last_active_at < oldest->last_active_at))
            oldest = entry;
    }
    SourceMetrics *entry = free_entry != nullptr ? free_entry : oldest;
    if (entry != nullptr) start_entry(entry, database_id, source_id);
    return entry;
}

void detach(int, Datum) {
    LWLockAcquire(table->lock, LW_EXCLUSIVE);
    mine->attached--;
    LWLockRelease(table->lock);
}

// Caller holds the lock.
void add_busy_time(TimestampTz now, bool still_busy) {
    if (busy_since != 0 && now > busy_since) mine->busy_microseconds += now - busy_since;
    busy_since = still_busy ? now : 0;
    mine->last_active_at = now;
}

}  // namespace

void request_source_metrics() {
    previous_request_hook = shmem_request_hook;
    shmem_request_hook = on_shmem_request;
    previous_startup_hook = shmem_startup_hook;
    shmem_startup_hook = on_shmem_startup;
}

void attach_source_metrics(Oid database_id, int32 source_id) {
    LWLockAcquire(table->lock, LW_EXCLUSIVE);
    mine = claim_entry(database_id, source_id);
    if (mine != nullptr) {
        mine->attached++;
        mine->last_active_at = GetCurrentTimestamp();
    }
    LWLockRelease(table->lock);
    if (mine == nullptr)
        ereport(LOG, (errmsg("pg_ingest: no room for the metrics of source %d", source_id)));
    else
        before_shmem_exit(detach, 0);
}

void note_file_started(int64 committed_offset) {
    file_offset = committed_offset;
    busy_since = GetCurrentTimestamp();
}

void note_batch_committed(int64 rows_loaded, int64 rows_rejected, int64 end_offset) {
    if (mine == nullptr) return;
    TimestampTz now = GetCurrentTimestamp();
    LWLockAcquire(table->lock, LW_EXCLUSIVE);
    mine->rows_loaded += rows_loaded;
    mine->rows_rejected += rows_rejected;
    mine->bytes_read += end_offset - file_offset;
    mine->batches++;
    add_busy_time(now, true);
    LWLockRelease(table->lock);
    file_offset = end_offset;
}

void note_copy_batch(CopyPath path) {
    if (mine == nullptr) return;
    LWLockAcquire(table->lock, LW_EXCLUSIVE);
    if (path == CopyPath::direct)
        mine->batches_direct_copy++;
    else
        mine->batches_spi_copy++;
    LWLockRelease(table->lock);
}

void note_file_done() {
    if (mine == nullptr) return;
    TimestampTz now = GetCurrentTimestamp();
    LWLockAcquire(table->lock, LW_EXCLUSIVE);
    mine->files_done++;
    mine->last_file_at = now;
    add_busy_time(now, false);
    LWLockRelease(table->lock);
}

void note_file_joined_batch(int64 rows_loaded, int64 bytes) {
    if (mine == nullptr) return;
    TimestampTz now = GetCurrentTimestamp();
    LWLockAcquire(table->lock, LW_EXCLUSIVE);
    mine->rows_loaded += rows_loaded;
    mine->bytes_read += bytes;
    mine->files_done++;
    mine->last_file_at = now;
    LWLockRelease(table->lock);
}

void note_file_failed() {
    if (mine == nullptr) return;
    TimestampTz now = GetCurrentTimestamp();
    LWLockAcquire(table->lock, LW_EXCLUSIVE);
    mine->files_failed++;
    mine->errors++;
    add_busy_time(now, false);
    LWLockRelease(table->lock);
}

void note_worker_error() {
    if (mine == nullptr) return;
    TimestampTz now = GetCurrentTimestamp();
    LWLockAcquire(table->lock, LW_EXCLUSIVE);
    mine->errors++;
    add_busy_time(now, false);
    LWLockRelease(table->lock);
}

void forget_database_metrics(Oid database_id) {
    LWLockAcquire(table->lock, LW_EXCLUSIVE);
    for (int i = 0; i < table->capacity; i++) {
        SourceMetrics *entry = &table->entries[i];
        if (entry->in_use && !entry->attached && entry->database_id == database_id)
            entry->in_use = false;
    }
    LWLockRelease(table->lock);
}

int source_metrics_capacity() {
    return table->capacity;
}

int snapshot_database_metrics(Oid database_id, SourceMetrics *out, int out_capacity) {
    int count = 0;
    LWLockAcquire(table->lock, LW_SHARED);
    for (int i = 0; i < table->capacity && count < out_capacity; i++) {
        const SourceMetrics *entry = &table->entries[i];
        if (entry->in_use && entry->database_id == database_id) out[count++] = *entry;
    }
    LWLockRelease(table->lock);
    return count;
}

}  // namespace pg_ingest
