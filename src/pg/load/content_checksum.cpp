#include "pg/load/content_checksum.hpp"
#include "pg/load/file_change.hpp"
#include "pg/support/pg_compat.hpp"

#include <algorithm>

extern "C" {
#include <unistd.h>

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "miscadmin.h"
#include "utils/resowner.h"
}

namespace pg_ingest {

namespace {

constexpr size_t kReadBytes = 1 << 20;

void check_hash(int result, pg_cryptohash_ctx *context, const char *shown) {
    if (result < 0)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                        errmsg("could not compute the SHA-256 of file \"%s\": %s", shown,
                               pg_cryptohash_error(context))));
}

// A file is also judged between transactions (file_change.hpp), where there is no resource owner
// for the hash context to be registered with: one is made for the hash.
ResourceOwner own_resource_owner() {
    if (CurrentResourceOwner != nullptr) return nullptr;
    CurrentResourceOwner = ResourceOwnerCreate(nullptr, "pg_ingest checksum");
    return CurrentResourceOwner;
}

void release_resource_owner(ResourceOwner owner) {
    if (owner == nullptr) return;
    ResourceOwnerRelease(owner, RESOURCE_RELEASE_BEFORE_LOCKS, true, true);
    ResourceOwnerRelease(owner, RESOURCE_RELEASE_LOCKS, true, true);
    ResourceOwnerRelease(owner, RESOURCE_RELEASE_AFTER_LOCKS, true, true);
    CurrentResourceOwner = nullptr;
    ResourceOwnerDelete(owner);
}

}  // namespace

bytea *sha256_of_bytes(int fd, const char *shown, int64 length, int64 *read) {
    ResourceOwner owner = own_resource_owner();
    pg_cryptohash_ctx *context = pg_cryptohash_create(PG_SHA256);
    if (context == nullptr)
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
    check_hash(pg_cryptohash_init(context), context, shown);
    char *buffer = static_cast<char *>(palloc(kReadBytes));
    int64 total = 0;
    while (length < 0 || total < length) {
        CHECK_FOR_INTERRUPTS();
        size_t wanted = length < 0
                            ? kReadBytes
                            : static_cast<size_t>(std::min<int64>(kReadBytes, length - total));
        ssize_t got = pread(fd, buffer, wanted, static_cast<off_t>(total));
        if (got < 0)
            ereport(ERROR,
                    (errcode_for_file_access(), errmsg("could not read file \"%s\": %m", shown)));
        if (got == 0) break;
        check_hash(pg_cryptohash_update(context, reinterpret_cast<const uint8 *>(buffer),
                                        static_cast<size_t>(got)),
                   context, shown);
        total += got;
    }
    *read = total;
    bytea *digest = static_cast<bytea *>(palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH));
    SET_VARSIZE(digest, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
    check_hash(pg_cryptohash_final(context, reinterpret_cast<uint8 *>(VARDATA(digest)),
                                   PG_SHA256_DIGEST_LENGTH),
               context, shown);
    pg_cryptohash_free(context);
    release_resource_owner(owner);
    pfree(buffer);
    return digest;
}

bytea *file_sha256(int fd, const char *shown, const char *file_name, int64 expected_size,
                   bool may_grow) {
    int64 total = 0;
    bytea *digest = sha256_of_bytes(fd, shown, may_grow ? expected_size : -1, &total);
    if (total != expected_size)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("%s", describe_size_change(file_name, expected_size, total, 0))));
    return digest;
}

bool same_sha256(const bytea *a, const bytea *b) {
    return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
           memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

}  // namespace pg_ingest
