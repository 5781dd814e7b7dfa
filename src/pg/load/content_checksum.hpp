// The SHA-256 of a file's content, through PostgreSQL's own cryptohash API (OpenSSL when the
// server is built with it), so that content dedupe and the judging of a changed file by its bytes
// need no library of their own.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pg_ingest {

// Reads the open data file `fd` from its start (with pread: its position stays) and hashes its
// first `length` bytes, or all of it when `length` is negative; *read gets how many bytes it
// hashed (fewer than `length` when the file is shorter). Raises ERROR naming the file as `shown`
// when it cannot be read. The result is a 32-byte bytea.
bytea *sha256_of_bytes(int fd, const char *shown, int64 length, int64 *read);
// The whole file's, which must be `expected_size` bytes long: else an ERROR naming `file_name`
// says how the file changed (file_change.hpp). With may_grow (tail mode), of its first
// `expected_size` bytes, whatever follows them.
bytea *file_sha256(int fd, const char *shown, const char *file_name, int64 expected_size,
                   bool may_grow = false);
bool same_sha256(const bytea *a, const bytea *b);

}  // namespace pg_ingest
