// Errors of a batch INSERT that no row of the batch caused: bisecting the batch would only
// blame every row in turn, so they fail the file instead of filling ingest.rejects.
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/elog.h"
}

namespace pg_ingest {

// True for: the statement no longer fits the target (class 42: a column dropped, its type
// changed, the table gone), disk full, I/O errors (class 58) and cancellation or shutdown
// (class 57). Not for 42501, which row-level security raises for a row its policy refuses.
bool failure_is_not_the_rows(const ErrorData *error);

// The same for a transform's statements, where 42501 is a missing privilege on a destination
// (row-level security does not apply to the owner's own temporary table `batch`): it fails the
// file, and retry_file after the GRANT completes it.
bool transform_failure_is_not_the_rows(const ErrorData *error);

}  // namespace pg_ingest
