// Replay: a file's earlier load undone inside the transaction that loads it again, so that a
// reader sees either the old rows or the new ones, never a file half present.
#pragma once

#include "pg/catalog/file_catalog.hpp"
#include "pg/catalog/source_definition.hpp"

namespace pg_ingest {

// Deletes the file's rows from the target (by the source's file_column, as the source's owner)
// and its rejects, and sets its position and counts back to the start. With on_file_change =
// replace, the same for the earlier versions of its name, which become 'replaced'. In the
// current transaction, SPI connected; the caller loads the file again before committing.
void forget_earlier_load(const SourceDefinition *source, const FileRow *file);

}  // namespace pg_ingest
