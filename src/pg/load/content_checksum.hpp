// The SHA-256 of a file's content, through PostgreSQL's own cryptohash API (OpenSSL when the
// server is built with it), so that content dedupe needs no library of its own.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pg_ingest {

// Reads the open data file `fd` from its start (with pread: its position stays) and hashes it.
// Raises ERROR naming the file as `shown` when it cannot be read, or naming `file_name` when its
// size is no longer `expected_size`. The result is a 32-byte bytea.
bytea *file_sha256(int fd, const char *shown, const char *file_name, int64 expected_size);

}  // namespace pg_ingest
