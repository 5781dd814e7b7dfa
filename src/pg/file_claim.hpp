// Which worker of a source loads which file. A claim is a session-level advisory lock on the
// file's id: it outlives the file's many batch transactions (and their aborts) and is released
// after the file, or by the server when the worker exits however it exits. The workers of a
// source skip files a sibling has claimed; each worker holds at most one claim.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pg_ingest {

// The advisory lock space of claims: pg_locks shows a claim as an advisory lock with this
// objsubid and the file id in classid (high 32 bits) and objid (low 32 bits). SQL's
// pg_advisory_lock uses 1 and 2, so no user lock collides with a claim.
constexpr uint16 kFileClaimLockSpace = 0x6970;

// Claims the file, giving up any other claim first; false when another worker holds it. The
// caller must then read the file's row again: it may have been finished before the claim.
bool claim_file(int64 file_id);
// Gives up the claim, if any.
void release_file_claim();

}  // namespace pg_ingest
