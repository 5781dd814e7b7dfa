// What happens to a loaded file (option on_success): kept, deleted, or moved into the archive
// directory, with its completeness marker when the source uses them.
#pragma once

#include "pg/catalog/file_catalog.hpp"
#include "pg/catalog/source_definition.hpp"

namespace pg_ingest {

// Runs only after the commit that marked the file done was flushed, outside a transaction. A
// file that cannot be deleted or moved is a WARNING: it is done, and stays where it is. So is a
// file whose owner no longer may write server files (asked just before, in a transaction of its
// own): its row in ingest.files then says why, and the worker's next round fails the source
// (owner_refusal).
void apply_on_success(const SourceDefinition *source, const char *path, const char *shown,
                      const FileRow *file);

}  // namespace pg_ingest
