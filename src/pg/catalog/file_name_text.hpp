// File names as catalog text. A name is bytes; the catalog's text must be valid in the database
// encoding. A name that is not keeps its exact bytes in ingest.files.file_name_bytes and is shown
// in file_name (and in ingest.rejects, the status view and the log) with each byte that does not
// form a valid character written as \xNN.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pg_ingest {

// `name` itself when it is valid in the database encoding, else its escaped form (palloc'd).
char *file_name_text(const char *name);

// The exact name as a bytea when file_name_text changes it; nullptr when the text is exact.
bytea *file_name_bytes(const char *name);

}  // namespace pg_ingest
