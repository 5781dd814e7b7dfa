#include "prepared_statement.hpp"

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
    SPIPlanPtr plan = SPI_prepare(sql, nargs, types);
    if (plan == nullptr)
        elog(ERROR, "pg_ingest: could not prepare \"%s\": %s", sql,
             SPI_result_code_string(SPI_result));
    if (statement_count == kMaxStatements) return plan;  // used once, freed with SPI's context
    if (SPI_keepplan(plan) != 0) elog(ERROR, "pg_ingest: could not keep a plan");
    statements[statement_count++] = {sql, plan};
    return plan;
}

}  // namespace

int execute_prepared(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
                     bool read_only) {
    return SPI_execute_plan(plan_for(sql, nargs, types), values, nulls, read_only, 0);
}

}  // namespace pg_ingest
