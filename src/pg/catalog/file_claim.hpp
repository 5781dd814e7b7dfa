// Which worker of a source loads which file. A claim is a session-level advisory lock on the
// file's id: it outlives the file's many batch transactions (and their aborts) and is released
// after the file, or by the server when the worker exits however it exits. The workers of a
// source skip files a sibling has claimed. A worker holds one claim, or, while it loads a group
// of small files in one transaction, one per file of the group (at most kMaxFileClaims). A file
// split into chunks (see file_chunks.hpp) is claimed only while its chunks are planned or one of
// them is picked; each chunk then has a claim of its own, in its own lock space.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pg_ingest {

// The advisory lock space of claims: pg_locks shows a claim as an advisory lock with this
// objsubid and the file id in classid (high 32 bits) and objid (low 32 bits). SQL's
// pg_advisory_lock uses 1 and 2, so no user lock collides with a claim.
constexpr uint16 kFileClaimLockSpace = 0x6970;
// The lock space of chunk claims: the chunk id (ingest.file_chunks.chunk_id) in classid and objid.
constexpr uint16 kChunkClaimLockSpace = 0x6971;
// Each claim is an entry in the server's shared lock table.
constexpr int kMaxFileClaims = 64;

// Claims the file (kept with the worker's other claims); false when another worker holds it, or
// this worker holds kMaxFileClaims already. The caller must then read the file's row again: it
// may have been finished before the claim.
bool claim_file(int64 file_id);
// Gives up the claim of one file, if held.
void release_file_claim(int64 file_id);
// The same for one chunk of a split file.
bool claim_chunk(int64 chunk_id);
void release_chunk_claim(int64 chunk_id);
// Gives up every claim.
void release_file_claims();

}  // namespace pg_ingest
