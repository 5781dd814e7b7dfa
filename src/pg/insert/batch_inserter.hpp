// Inserts a micro-batch of parsed rows into the target through one prepared SPI statement,
// as the source's owner, and isolates rows the target refuses.
#pragma once

#include "pg/catalog/source_definition.hpp"
#include "pg/insert/transform_batch.hpp"

extern "C" {
#include "postgres.h"
#include "executor/spi.h"
}

namespace pg_ingest {

struct CsvField;

struct PendingRow {
    const CsvField *fields;
    int64 line_number;
    int64 last_line;  // the row's last line (a quoted line break spans lines)
    int64 start_offset;
    int64 end_offset;
};

struct BatchInserter {
    Oid owner;
    int encoding;      // of the file; converted to the database's when they differ
    int field_count;   // fields every row must have
    int column_count;  // target columns filled from those fields
    int *field_for_column;
    SPIPlanPtr plan;
    // Rows can land on another server that commits them before or as this one does: a foreign
    // table's (postgres_fdw commits at pre-commit) or a Citus node (COMMIT PREPARED right after
    // the local commit, durable there while an asynchronous local commit is not yet).
    bool commits_on_other_servers;
    // Lineage: the statement also fills the source's file_column with file_id (set for each
    // file) and its line_column with each row's line number.
    bool fills_file_column;
    bool fills_line_column;
    int64 file_id;
    // With option transform: the rows go into `batch` and the transform runs on them.
    TransformBatch *transform;
    // Schema drift: header fields naming no target column. With on_new_columns = ignore they
    // are left out (their names noted in ingest.files); with rescue, rescue_fields feed one
    // jsonb object per row in the source's rescue_column.
    int new_column_count;
    char **new_columns;
    int *new_column_fields;
    bool rescues_new_columns;
};

using RejectFn = void (*)(const PendingRow *row, const char *message, const char *sqlstate,
                          void *context);

// Maps the header (or, without one, the position of fields) to target columns and prepares the
// INSERT. header_names is nullptr without a header. Errors name the file.
BatchInserter *prepare_batch_inserter(const SourceDefinition *source, const char *file_name,
                                      const char *const *header_names, int header_count,
                                      MemoryContext context);
void free_batch_inserter(BatchInserter *inserter);

// The target's schema-qualified, quoted name; ERROR when it no longer exists.
char *qualified_target_name(Oid target);

// Inserts the rows in one subtransaction. When it fails, the refused rows are found by bisection
// in file order inside a subtransaction that is then rolled back, handed to reject, and the rest
// inserted in one more subtransaction: a clean batch costs one subtransaction, and a failing one
// leaves at most one committed subtransaction behind. Returns the number of rows inserted.
int64 insert_rows(BatchInserter *inserter, PendingRow *rows, int count, RejectFn reject,
                  void *context);

}  // namespace pg_ingest
