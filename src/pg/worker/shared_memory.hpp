// Named structs in the server's shared memory, each with one LWLock of a tranche of its name:
// requested by the postmaster's shmem_request_hook, created or found by its shmem_startup_hook.
#pragma once

extern "C" {
#include "postgres.h"
#include "storage/lwlock.h"
}

namespace pg_ingest {

// In shmem_request_hook: room for the struct and its lock.
void request_shared_struct(const char *name, Size size);

// In shmem_startup_hook: the struct, zeroed and given to `initialize` with its lock when this
// call creates it (at server start and after every crash), found as it is otherwise.
void *attach_shared_struct(const char *name, Size size, void (*initialize)(void *, LWLock *));

}  // namespace pg_ingest
