#include "pg/insert/statement_failure.hpp"

namespace pg_ingest {

bool failure_is_not_the_rows(const ErrorData *error) {
    int sqlerrcode = error->sqlerrcode;
    if (sqlerrcode == ERRCODE_DISK_FULL) return true;
    if (sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE) return false;
    int error_class = ERRCODE_TO_CATEGORY(sqlerrcode);
    return error_class == ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION ||
           error_class == ERRCODE_SYSTEM_ERROR || error_class == ERRCODE_OPERATOR_INTERVENTION;
}

bool transform_failure_is_not_the_rows(const ErrorData *error) {
    return error->sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE || failure_is_not_the_rows(error);
}

}  // namespace pg_ingest
