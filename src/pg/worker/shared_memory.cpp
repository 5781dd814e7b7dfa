#include "pg/worker/shared_memory.hpp"

extern "C" {
#include "storage/ipc.h"
#include "storage/shmem.h"
}

namespace pg_ingest {

void request_shared_struct(const char *name, Size size) {
    RequestAddinShmemSpace(size);
    RequestNamedLWLockTranche(name, 1);
}

void *attach_shared_struct(const char *name, Size size, void (*initialize)(void *, LWLock *)) {
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    void *shared = ShmemInitStruct(name, size, &found);
    if (!found) {
        memset(shared, 0, size);
        initialize(shared, &(GetNamedLWLockTranche(name))->lock);
    }
    LWLockRelease(AddinShmemInitLock);
    return shared;
}

}  // namespace pg_ingest
