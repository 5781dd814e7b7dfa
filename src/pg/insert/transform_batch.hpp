// Option transform: a micro-batch's rows go into the worker's temporary table `batch`, shaped
// like the target, and the transform's statements run on them as the owner, in the batch's
// transaction (with the file's new offset). pg_ingest itself then inserts nothing into the target.
#pragma once

#include "pg/catalog/source_definition.hpp"

extern "C" {
#include "postgres.h"
#include "executor/spi.h"
}

namespace pg_ingest {

struct TransformBatch {
    Oid owner;
    SPIPlanPtr statements;  // the transform, every statement of it
    // The top transaction whose statements last filled `batch`; its next fill empties it first
    // (a new transaction finds it empty: ON COMMIT DELETE ROWS).
    TransactionId filled_in;
};

// The relation the inserters fill: pg_temp.batch with a transform, else the target.
char *load_relation_name(const SourceDefinition *source);

// (Re)creates pg_temp.batch like the target, as the owner (who needs the TEMPORARY privilege on
// the database), and prepares the transform against it. Needs a transaction.
TransformBatch *prepare_transform_batch(const SourceDefinition *source, MemoryContext context);
void free_transform_batch(TransformBatch *transform);

// Before rows go into `batch`: empties it when an earlier attempt of this transaction (a kept
// half of a bisection) filled it.
void empty_transform_batch(TransformBatch *transform);
// After: runs the transform on `batch`, as the owner with the owner's settings.
void run_transform(TransformBatch *transform);

}  // namespace pg_ingest
