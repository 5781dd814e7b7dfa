#include "pg/worker/worker_progress.hpp"

extern "C" {
#include "utils/timestamp.h"
}

namespace pg_ingest {

namespace {

// Rows/s is counted per second in a ring of kRateWindowSeconds buckets.
void count_rows(WorkerSlot *slot, int64 rows) {
    int64 second = GetCurrentTimestamp() / USECS_PER_SEC;
    int bucket = static_cast<int>(second % kRateWindowSeconds);
    if (slot->rate_second[bucket] != second) {
        slot->rate_second[bucket] = second;
        slot->rate_rows[bucket] = 0;
    }
    slot->rate_rows[bucket] += rows;
}

}  // namespace

void report_progress(WorkerSlot *slot, const WorkerProgress &progress) {
    SharedState *s = shared();
    LWLockAcquire(s->lock, LW_EXCLUSIVE);
    slot->state = progress.state;
    if (progress.current_file == nullptr)
        slot->current_file[0] = '\0';
    else
        strlcpy(slot->current_file, progress.current_file, sizeof slot->current_file);
    slot->current_offset = progress.current_offset;
    if (progress.rows > 0) count_rows(slot, progress.rows);
    if (progress.error != nullptr)
        strlcpy(slot->last_error, progress.error, sizeof slot->last_error);
    LWLockRelease(s->lock);
}

void report_state(WorkerSlot *slot, WorkerState state, const char *error) {
    report_progress(slot, WorkerProgress{state, nullptr, 0, 0, error});
}

void clear_error(WorkerSlot *slot) {
    SharedState *s = shared();
    LWLockAcquire(s->lock, LW_EXCLUSIVE);
    slot->last_error[0] = '\0';
    LWLockRelease(s->lock);
}

}  // namespace pg_ingest
