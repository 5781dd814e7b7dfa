#include "pg/worker/shared_state.hpp"

#include "pg/worker/shared_memory.hpp"

extern "C" {
#include <signal.h>

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
}

namespace pg_ingest {

int max_sources = 64;

namespace {

SharedState *state = nullptr;
shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;

Size shared_size() {
    return add_size(offsetof(SharedState, slots), mul_size(max_sources, sizeof(WorkerSlot)));
}

constexpr char kSharedName[] = "pg_ingest";

void on_shmem_request() {
    if (previous_request_hook) previous_request_hook();
    request_shared_struct(kSharedName, shared_size());
}

void initialize_state(void *shared, LWLock *lock) {
    auto *created = static_cast<SharedState *>(shared);
    created->lock = lock;
    created->slot_count = max_sources;
}

void on_shmem_startup() {
    if (previous_startup_hook) previous_startup_hook();
    state = static_cast<SharedState *>(
        attach_shared_struct(kSharedName, shared_size(), initialize_state));
}

}  // namespace

void request_shared_state() {
    previous_request_hook = shmem_request_hook;
    shmem_request_hook = on_shmem_request;
    previous_startup_hook = shmem_startup_hook;
    shmem_startup_hook = on_shmem_startup;
}

SharedState *shared() {
    if (state == nullptr)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("pg_ingest is not loaded through shared_preload_libraries"),
                        errhint("Add pg_ingest to shared_preload_libraries in postgresql.conf "
                                "and restart the server.")));
    return state;
}

WorkerSlot *find_slot(Oid database_id, int32 source_id, int worker_index) {
    for (int i = 0; i < state->slot_count; i++) {
        WorkerSlot *slot = &state->slots[i];
        if (slot->in_use && slot->database_id == database_id && slot->source_id == source_id &&
            slot->worker_index == worker_index)
            return slot;
    }
    return nullptr;
}

WorkerSlot *find_or_add_slot(Oid database_id, int32 source_id, int worker_index, const char *name) {
    WorkerSlot *slot = find_slot(database_id, source_id, worker_index);
    if (slot != nullptr) return slot;
    for (int i = 0; i < state->slot_count; i++) {
        slot = &state->slots[i];
        if (slot->in_use) continue;
        memset(slot, 0, sizeof *slot);
        slot->in_use = true;
        slot->database_id = database_id;
        slot->source_id = source_id;
        slot->worker_index = worker_index;
        strlcpy(slot->source_name, name, sizeof slot->source_name);
        return slot;
    }
    return nullptr;
}

void want_slot(WorkerSlot *slot, Oid extension_id) {
    slot->wanted = true;
    slot->extension_id = extension_id;
    slot->consecutive_failures = 0;
    slot->next_launch_at = 0;
}

void stop_source_workers(Oid database_id, int32 source_id, pid_t except_pid) {
    for (int i = 0; i < state->slot_count; i++) {
        WorkerSlot *slot = &state->slots[i];
        if (!slot->in_use || slot->database_id != database_id || slot->source_id != source_id)
            continue;
        slot->wanted = false;
        slot->stop_requested = true;
        if (slot->pid != 0 && slot->pid != except_pid) kill(slot->pid, SIGTERM);
    }
}

int want_sibling_workers(WorkerSlot *own, int workers) {
    int missing = 0;
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    if (own->wanted) {
        for (int i = 0; i < state->slot_count; i++) {
            WorkerSlot *slot = &state->slots[i];
            if (slot->in_use && slot->database_id == own->database_id &&
                slot->source_id == own->source_id && slot->worker_index >= workers) {
                slot->wanted = false;
                slot->stop_requested = true;
                if (slot->pid != 0) kill(slot->pid, SIGTERM);
            }
        }
        for (int index = 1; index < workers; index++) {
            WorkerSlot *slot =
                find_or_add_slot(own->database_id, own->source_id, index, own->source_name);
            if (slot == nullptr) {
                missing++;
                continue;
            }
            if (slot->wanted) continue;  // running, or waiting out its backoff
            want_slot(slot, own->extension_id);
        }
    }
    LWLockRelease(state->lock);
    wake_launcher();
    return missing;
}

void wake_sibling_workers(Oid database_id, int32 source_id) {
    SharedState *s = shared();
    LWLockAcquire(s->lock, LW_SHARED);
    for (int i = 0; i < s->slot_count; i++) {
        WorkerSlot *slot = &s->slots[i];
        if (slot->in_use && slot->database_id == database_id && slot->source_id == source_id &&
            slot->pid != 0 && slot->pid != MyProcPid && slot->latch != nullptr)
            SetLatch(slot->latch);
    }
    LWLockRelease(s->lock);
}

void wake_launcher() {
    Latch *latch = shared()->launcher_latch;
    if (latch != nullptr) SetLatch(latch);
}

void request_rescan() {
    SharedState *s = shared();
    LWLockAcquire(s->lock, LW_EXCLUSIVE);
    s->rescan_requested = true;
    LWLockRelease(s->lock);
    wake_launcher();
}

}  // namespace pg_ingest
