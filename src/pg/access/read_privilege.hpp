// The right to read server files, which COPY FROM a file asks of its caller: a source reads its
// files for its owner, so the worker asks it of the owner before each file and each batch, and
// ingest.start before it starts a source.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pg_ingest {

// nullptr when the owner is a superuser or has the privileges of pg_read_server_files; otherwise
// what is missing, in words that name the fix. Needs a transaction.
const char *read_privilege_refusal(Oid owner);

}  // namespace pg_ingest
