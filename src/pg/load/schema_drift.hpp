// Schema drift (option on_new_columns): what a file's header column that the target lacks does.
// Each file is judged by its own header. `fail` (the default) fails the file; `ignore` and
// `rescue` are the inserter's mapping (batch_inserter.hpp); `add` and the note of ignored
// columns in ingest.files are here.
#pragma once

#include "pg/catalog/file_catalog.hpp"
#include "pg/insert/batch_inserter.hpp"

namespace pg_ingest {

// With on_new_columns = add: ALTER TABLE target ADD COLUMN name text, as the owner, for each
// header name the target lacks, in the transaction that prepares the file's load (before its
// first batch). The owner must own the target (create_source and alter_source check it; a
// change of ownership since fails the file with PostgreSQL's error).
void add_new_columns(const SourceDefinition *source, const char *const *header_names,
                     int header_count);

// With on_new_columns = ignore: records the header's ignored columns in
// ingest.files.ignored_columns, in the same transaction.
void note_ignored_columns(const SourceDefinition *source, const FileRow *file,
                          const BatchInserter *inserter);

}  // namespace pg_ingest
