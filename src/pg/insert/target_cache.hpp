// The inserters of the last file, kept for the next file of the same shape: for a small file,
// preparing them (reading the target's columns, planning an INSERT and a COPY) costs more than
// loading its rows. A change to the target (columns, privileges, row-level security, partitions)
// invalidates them through the relation cache.
#pragma once

#include "pg/insert/batch_inserter.hpp"
#include "pg/insert/copy_inserter.hpp"

namespace pg_ingest {

struct PreparedTarget {
    BatchInserter *inserter;
    CopyInserter *copier;  // nullptr when COPY cannot be used
};

// Registers the relation cache callback; once per worker.
void register_target_cache();

// The inserters for a file with this header (nullptr: none) into the source's target, prepared
// now or kept from an earlier file. Needs a transaction. Errors name the file.
PreparedTarget prepare_target(const SourceDefinition *source, const char *file_name,
                              const char *const *header_names, int header_count);

}  // namespace pg_ingest
