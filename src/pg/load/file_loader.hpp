// Loads one file from its committed position to its end, one transaction per micro-batch that
// inserts the rows and records the new position together: a crash at any instant loses nothing
// and loads nothing twice.
#pragma once

#include "pg/catalog/file_catalog.hpp"
#include "pg/worker/shared_state.hpp"
#include "pg/catalog/source_definition.hpp"

namespace pg_ingest {

// Called outside a transaction. File-level problems raise ERROR; the caller then calls
// abandon_file_load() and marks the file failed, naming the line from current_load_line().
// A file asked to be replayed is loaded from its start in one transaction that first deletes its
// earlier rows and rejects (see file_replay.hpp); an error or a crash leaves them as they were.
// A file stopped because the owner lost INSERT stays where it is: the worker's next round fails
// the source.
void load_file(const SourceDefinition *source, const FileRow *requested, WorkerSlot *slot);
void abandon_file_load();
int64 current_load_line();
// After load_file: when the load ended a split file whose growth retry_file accepted (its chunks
// end where the file ended when it was planned), the size it grew to; else 0. The file is done
// with the bytes it was planned with, and is then to fail as a done file that grew.
int64 growth_left_behind();

}  // namespace pg_ingest
