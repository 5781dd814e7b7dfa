// pg_ingest.files_retention: worker 0 of a source deletes the rows of its done, duplicate and
// skipped files that finished longer ago than the setting, in steps of kPurgeStepFiles rows of
// ingest.files, each its own transaction, so that loading goes on between them. Kept: the row of
// a file still in the directory (it is what stops the file from loading again), and, for dedupe,
// the size and SHA-256 of each purged done file in ingest.purged_contents. A purged file's
// rejects go with it (ON DELETE CASCADE).
#pragma once

#include "pg/catalog/source_definition.hpp"

extern "C" {
#include "postgres.h"
}

namespace pg_ingest {

// Rows of ingest.files (any source's, in file_id order) one step looks at: a step of 1,000
// deleted rows took up to 110 ms on the 2 vCPU test VM, which a file arriving meanwhile waits.
constexpr int kPurgeStepFiles = 500;

enum class PurgeProgress {
    more_to_do,  // call again (after any file that waits has been loaded)
    pass_done,   // every row was looked at: the next pass starts from the first again
};

// Where a pass stands: the last file_id looked at (0 before the first).
struct PurgePass {
    int64 after_file_id = 0;
    int64 purged = 0;  // rows deleted so far in this pass
};

// One step, in the caller's transaction (SPI connected). retention_seconds >= 0.
PurgeProgress purge_step(const SourceDefinition *source, int retention_seconds, PurgePass *pass);

}  // namespace pg_ingest
