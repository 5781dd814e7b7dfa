// One file, one source: the overlap test between sources as the catalog functions and the
// workers run it. A started source claims its files in shared memory (DirectoryClaim), where the
// sources of every database see them.
#pragma once

#include "pg/worker/shared_state.hpp"

namespace pg_ingest {

// Why `directory` cannot be read (stat) now; nullptr when it can.
char *unreadable_directory(const char *directory);

// A source's files as a claim, not yet held. `archive_directory` is nullptr unless on_success =
// move, `ready_marker` nullptr or "" without markers.
void fill_claim(DirectoryClaim *claim, const char *name, const char *directory, const char *pattern,
                const char *archive_directory, const char *ready_marker);

// How the source of `claim` can take the files of the source of `other` (source_overlap.hpp),
// naming the other's database when `other_database`; nullptr when it cannot. A directory that
// cannot be read now is the same as no other.
char *overlap_text(const DirectoryClaim &claim, const DirectoryClaim &other, bool other_database);

// Worker 0 of a source holds `claim` in its slot, under the lock, unless the claim of another
// started source overlaps it: then nothing is held and the refusal is returned, with its fix.
// nullptr once held.
char *hold_claim(WorkerSlot *own, const DirectoryClaim &claim);

// ingest.start and alter_source: the refusal hold_claim would return to the worker of source
// `source_id` of this database now; nullptr when none.
char *running_overlap(int32 source_id, const DirectoryClaim &claim);

}  // namespace pg_ingest
