#include "pg/support/prepared_statement.hpp"

extern "C" {
#include "executor/spi.h"
}

namespace pg_ingest {

namespace {

struct PreparedStatement {
    const char *sql;
    SPIPlanPtr plan;
};

// A worker runs a dozen distinct statements at most.
constexpr int kMaxStatements = 32;
PreparedStatement statements[kMaxStatements];
int statement_count = 0;

SPIPlanPtr plan_for(const char *sql, int nargs, Oid *types) {
    for (int i = 0; i < statement_count; i++)
        if (statements[i].sql == sql) return statements[i].plan;
    // Past kMaxStatements a plan is used once, freed with SPI's context.
    if (statement_count == kMaxStatements) return prepare_plan(sql, nargs, types);
    SPIPlanPtr plan = prepare_kept_plan(sql, nargs, types);
    statements[statement_count++] = {sql, plan};
    return plan;
}

}  // namespace

SPIPlanPtr prepare_plan(const char *sql, int nargs, Oid *types) {
    SPIPlanPtr plan = SPI_prepare(sql, nargs, types);
    if (plan == nullptr)
        elog(ERROR, "pg_ingest: could not prepare \"%s\": %s", sql,
             SPI_result_code_string(SPI_result));
    return plan;
}

SPIPlanPtr prepare_kept_plan(const char *sql, int nargs, Oid *types) {
    SPIPlanPtr plan = prepare_plan(sql, nargs, types);
    if (SPI_keepplan(plan) != 0) elog(ERROR, "pg_ingest: could not keep the plan of \"%s\"", sql);
    return plan;
}

void check_spi_result(int ret, int expected, const char *what) {
    if (ret != expected) elog(ERROR, "pg_ingest: %s failed: %s", what, SPI_result_code_string(ret));
}

void execute_prepared_checked(const char *sql, int nargs, Oid *types, Datum *values,
                              const char *nulls, int expected) {
    check_spi_result(execute_prepared(sql, nargs, types, values, nulls, false), expected,
                     "catalog statement");
}

int execute_prepared(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
                     bool read_only) {
    return SPI_execute_plan(plan_for(sql, nargs, types), values, nulls, read_only, 0);
}

}  // namespace pg_ingest
