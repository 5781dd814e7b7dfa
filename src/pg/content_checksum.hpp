// The SHA-256 of a file's content, through PostgreSQL's own cryptohash API (OpenSSL when the
// server is built with it), so that content dedupe needs no library of its own.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pg_ingest {

// Reads the regular file `path` to its end inside the current transaction (the descriptor and
// the hash context are released if it aborts). Raises ERROR, with the loader's messages, when it
// cannot be read (naming the path as `shown`) or its size is no longer `expected_size` (naming
// `file_name`). The result is a 32-byte bytea.
bytea *file_sha256(const char *path, const char *shown, const char *file_name, int64 expected_size);

}  // namespace pg_ingest
