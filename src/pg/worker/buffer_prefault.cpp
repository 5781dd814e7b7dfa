#include "pg/worker/buffer_prefault.hpp"

#include "pg/support/guc_settings.hpp"
#include "pg/support/time_convert.hpp"

extern "C" {
#include <sys/mman.h>
#include <unistd.h>

#include "postgres.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "storage/bufmgr.h"
}

namespace pg_ingest {

void prefault_shared_buffers() {
#ifdef MADV_POPULATE_WRITE
    if (!prefault_buffers) return;
    instr_time started;
    INSTR_TIME_SET_CURRENT(started);
    uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    uintptr_t start = reinterpret_cast<uintptr_t>(BufferBlocks) & ~(page - 1);
    uintptr_t end =
        reinterpret_cast<uintptr_t>(BufferBlocks) + static_cast<uintptr_t>(NBuffers) * BLCKSZ;
    // The pages are the server's shared memory, already allocated: this only maps them.
    int result = madvise(reinterpret_cast<void *>(start), end - start, MADV_POPULATE_WRITE);
    double ms = elapsed_ms(started);
    if (result != 0)
        elog(DEBUG1, "pg_ingest: could not map the shared buffers ahead: %m");
    else
        elog(DEBUG1, "pg_ingest: mapped %d shared buffers in %.1f ms", NBuffers, ms);
#endif
}

}  // namespace pg_ingest
