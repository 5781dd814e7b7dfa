// Running a statement in a subtransaction, so that a failure costs only that statement: the caller
// learns the error and the surrounding transaction goes on.
#pragma once

extern "C" {
#include "postgres.h"
#include "executor/spi.h"
}

namespace pg_ingest {

// Runs attempt(arg) in a subtransaction, kept when it returns true and rolled back otherwise.
// Returns the error it raised (the subtransaction then rolled back), or nullptr. The caller's
// memory context and resource owner are current again afterwards.
ErrorData *run_in_subtransaction(bool (*attempt)(void *arg), void *arg);

}  // namespace pg_ingest
