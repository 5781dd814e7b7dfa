// Runs the worker's fixed catalog statements through plans prepared once per worker process,
// instead of parsing and planning them again for every batch and every file.
#pragma once

extern "C" {
#include "postgres.h"
#include "executor/spi.h"
}

namespace pg_ingest {

// `sql` must be a string literal: its address identifies the plan. Same contract as
// SPI_execute_with_args otherwise (SPI connected; returns the SPI result code).
int execute_prepared(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
                     bool read_only);

// execute_prepared for a statement that writes: raises unless SPI returns `expected`.
void execute_prepared_checked(const char *sql, int nargs, Oid *types, Datum *values,
                              const char *nulls, int expected);

// Raises unless an SPI call returned `expected`; `what` says what failed ("insert").
void check_spi_result(int ret, int expected, const char *what);

// SPI_prepare that raises with the statement's text when it cannot be prepared.
SPIPlanPtr prepare_plan(const char *sql, int nargs, Oid *types);
// prepare_plan, kept beyond the transaction (SPI_keepplan) until SPI_freeplan.
SPIPlanPtr prepare_kept_plan(const char *sql, int nargs, Oid *types);

}  // namespace pg_ingest
