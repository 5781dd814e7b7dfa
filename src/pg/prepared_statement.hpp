// Runs the worker's fixed catalog statements through plans prepared once per worker process,
// instead of parsing and planning them again for every batch and every file.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pg_ingest {

// `sql` must be a string literal: its address identifies the plan. Same contract as
// SPI_execute_with_args otherwise (SPI connected; returns the SPI result code).
int execute_prepared(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
                     bool read_only);

}  // namespace pg_ingest
