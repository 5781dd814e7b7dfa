// Errors of a batch INSERT that no row of the batch caused: bisecting the batch would only
// blame every row in turn, so they fail the file instead of filling ingest.rejects.
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/elog.h"
}

namespace pg_ingest {

// True for: the statement no longer fits the target (class 42: a column dropped, its type
// changed, the table gone), disk full, I/O errors (class 58), cancellation or shutdown
// (class 57), a lost connection (class 08, or the XX000 errors Citus raises for a node that went
// away, see statement_failure.cpp) and a deadlock or serialization failure (class 40). Not for
// 42501, which row-level security raises for a row its policy refuses.
bool failure_is_not_the_rows(const ErrorData *error);

// True for a failure of the batch's transaction that neither the file nor its rows caused and
// that passes by itself: another server (a Citus node, a foreign server) closed the connection,
// crashed, is starting up or shutting down, or the transaction met a deadlock or a serialization
// failure. The file stays loading and resumes from its committed offset.
bool failure_is_another_servers(const ErrorData *error);

// The same for a transform's statements, where 42501 is a missing privilege on a destination
// (row-level security does not apply to the owner's own temporary table `batch`): it fails the
// file, and retry_file after the GRANT completes it.
bool transform_failure_is_not_the_rows(const ErrorData *error);

}  // namespace pg_ingest
