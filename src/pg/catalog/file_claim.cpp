#include "pg/catalog/file_claim.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/lock.h"
}

namespace pg_ingest {

namespace {

// A held claim: the lock space says whether the id is a file's or a chunk's.
struct Claim {
    uint16 space;
    int64 id;
};

Claim claims[kMaxFileClaims];
int claim_count = 0;

LOCKTAG claim_tag(Claim claim) {
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, static_cast<uint32>(claim.id >> 32),
                         static_cast<uint32>(claim.id), claim.space);
    return tag;
}

void unlock(Claim claim) {
    LOCKTAG tag = claim_tag(claim);
    (void)LockRelease(&tag, ExclusiveLock, true);
}

bool claim(Claim wanted) {
    for (int i = 0; i < claim_count; i++)
        if (claims[i].space == wanted.space && claims[i].id == wanted.id) return true;
    if (claim_count == kMaxFileClaims) return false;
    LOCKTAG tag = claim_tag(wanted);
    if (LockAcquire(&tag, ExclusiveLock, true, true) == LOCKACQUIRE_NOT_AVAIL) return false;
    claims[claim_count++] = wanted;
    return true;
}

void release(Claim held) {
    for (int i = 0; i < claim_count; i++) {
        if (claims[i].space != held.space || claims[i].id != held.id) continue;
        claims[i] = claims[--claim_count];
        unlock(held);
        return;
    }
}

}  // namespace

bool claim_file(int64 file_id) {
    return claim({kFileClaimLockSpace, file_id});
}

void release_file_claim(int64 file_id) {
    release({kFileClaimLockSpace, file_id});
}

bool claim_chunk(int64 chunk_id) {
    return claim({kChunkClaimLockSpace, chunk_id});
}

void release_chunk_claim(int64 chunk_id) {
    release({kChunkClaimLockSpace, chunk_id});
}

void release_file_claims() {
    while (claim_count > 0) unlock(claims[--claim_count]);
}

}  // namespace pg_ingest
