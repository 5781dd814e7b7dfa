#include "file_claim.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/lock.h"
}

namespace pg_ingest {

namespace {

int64 claimed_file_id = -1;

LOCKTAG claim_tag(int64 file_id) {
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, static_cast<uint32>(file_id >> 32),
                         static_cast<uint32>(file_id), kFileClaimLockSpace);
    return tag;
}

}  // namespace

bool claim_file(int64 file_id) {
    if (claimed_file_id == file_id) return true;
    release_file_claim();
    LOCKTAG tag = claim_tag(file_id);
    if (LockAcquire(&tag, ExclusiveLock, true, true) == LOCKACQUIRE_NOT_AVAIL) return false;
    claimed_file_id = file_id;
    return true;
}

void release_file_claim() {
    if (claimed_file_id < 0) return;
    LOCKTAG tag = claim_tag(claimed_file_id);
    claimed_file_id = -1;
    (void)LockRelease(&tag, ExclusiveLock, true);
}

}  // namespace pg_ingest
