#include "pg/load/content_checksum.hpp"
#include "pg/support/pg_compat.hpp"

extern "C" {
#include <unistd.h>

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "miscadmin.h"
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

}  // namespace

bytea *file_sha256(int fd, const char *shown, const char *file_name, int64 expected_size) {
    pg_cryptohash_ctx *context = pg_cryptohash_create(PG_SHA256);
    if (context == nullptr)
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
    check_hash(pg_cryptohash_init(context), context, shown);
    char *buffer = static_cast<char *>(palloc(kReadBytes));
    int64 total = 0;
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        ssize_t got = pread(fd, buffer, kReadBytes, static_cast<off_t>(total));
        if (got < 0)
            ereport(ERROR,
                    (errcode_for_file_access(), errmsg("could not read file \"%s\": %m", shown)));
        if (got == 0) break;
        check_hash(pg_cryptohash_update(context, reinterpret_cast<const uint8 *>(buffer),
                                        static_cast<size_t>(got)),
                   context, shown);
        total += got;
    }
    if (total != expected_size)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("file \"%s\" changed since it was discovered (size %lld, was %lld)",
                               file_name, static_cast<long long>(total),
                               static_cast<long long>(expected_size))));
    bytea *digest = static_cast<bytea *>(palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH));
    SET_VARSIZE(digest, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
    check_hash(pg_cryptohash_final(context, reinterpret_cast<uint8 *>(VARDATA(digest)),
                                   PG_SHA256_DIGEST_LENGTH),
               context, shown);
    pg_cryptohash_free(context);
    pfree(buffer);
    return digest;
}

}  // namespace pg_ingest
