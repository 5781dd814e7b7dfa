// The right to write server files, which COPY TO a file asks of its caller: deleting a loaded
// file (on_success = delete) or moving it into the archive directory (on_success = move) writes
// the server's file system for the source's owner. create_source, alter_source and ingest.start
// ask it of the owner, and the worker before each file, each batch and each delete or move.
#pragma once

extern "C" {
#include "postgres.h"
}

#include "pg/catalog/source_definition.hpp"

namespace pg_ingest {

// nullptr when on_success keeps files, or the owner is a superuser or has the privileges of
// pg_write_server_files; otherwise what is missing, in words that name the fix. Needs a
// transaction.
const char *write_privilege_refusal(Oid owner, OnSuccess on_success);

}  // namespace pg_ingest
