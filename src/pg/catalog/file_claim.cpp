#include "pg/catalog/file_claim.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/lock.h"
}

namespace pg_ingest {

namespace {

int64 claimed_file_ids[kMaxFileClaims];
int claim_count = 0;

LOCKTAG claim_tag(int64 file_id) {
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, static_cast<uint32>(file_id >> 32),
                         static_cast<uint32>(file_id), kFileClaimLockSpace);
    return tag;
}

void unlock(int64 file_id) {
    LOCKTAG tag = claim_tag(file_id);
    (void)LockRelease(&tag, ExclusiveLock, true);
}

}  // namespace

bool claim_file(int64 file_id) {
    for (int i = 0; i < claim_count; i++)
        if (claimed_file_ids[i] == file_id) return true;
    if (claim_count == kMaxFileClaims) return false;
    LOCKTAG tag = claim_tag(file_id);
    if (LockAcquire(&tag, ExclusiveLock, true, true) == LOCKACQUIRE_NOT_AVAIL) return false;
    claimed_file_ids[claim_count++] = file_id;
    return true;
}

void release_file_claim(int64 file_id) {
    for (int i = 0; i < claim_count; i++) {
        if (claimed_file_ids[i] != file_id) continue;
        claimed_file_ids[i] = claimed_file_ids[--claim_count];
        unlock(file_id);
        return;
    }
}

void release_file_claims() {
    while (claim_count > 0) unlock(claimed_file_ids[--claim_count]);
}

}  // namespace pg_ingest
