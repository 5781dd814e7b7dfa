#include "pg/insert/statement_failure.hpp"

#include <cstring>

namespace pg_ingest {

namespace {

// Citus raises a lost connection to a node without a SQLSTATE of its own (XX000): as "failure on
// connection marked as essential" once the connection had written in the transaction, or as
// libpq's own text for a command whose connection broke (no SQLSTATE came from the node). Citus's
// messages are not translated; libpq's are where lc_messages is not English.
bool is_citus_lost_node(const ErrorData *error) {
    static const char *const kLostNodeMessages[] = {
        "failure on connection marked as essential: ",
        "server closed the connection unexpectedly",
        "could not receive data from server",
        "could not send data to server",
        "no connection to the server",
        "connection not open",
    };
    if (error->sqlerrcode != ERRCODE_INTERNAL_ERROR || error->message == nullptr) return false;
    for (const char *lost : kLostNodeMessages)
        if (strncmp(error->message, lost, strlen(lost)) == 0) return true;
    return false;
}

}  // namespace

bool failure_is_not_the_rows(const ErrorData *error) {
    int sqlerrcode = error->sqlerrcode;
    if (sqlerrcode == ERRCODE_DISK_FULL) return true;
    if (sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE) return false;
    if (is_citus_lost_node(error)) return true;
    int error_class = ERRCODE_TO_CATEGORY(sqlerrcode);
    return error_class == ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION ||
           error_class == ERRCODE_SYSTEM_ERROR || error_class == ERRCODE_OPERATOR_INTERVENTION ||
           error_class == ERRCODE_CONNECTION_EXCEPTION ||
           error_class == ERRCODE_TRANSACTION_ROLLBACK;
}

bool failure_is_another_servers(const ErrorData *error) {
    if (is_citus_lost_node(error)) return true;
    int sqlerrcode = error->sqlerrcode;
    return ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_CONNECTION_EXCEPTION ||
           ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_TRANSACTION_ROLLBACK ||
           sqlerrcode == ERRCODE_ADMIN_SHUTDOWN || sqlerrcode == ERRCODE_CRASH_SHUTDOWN ||
           sqlerrcode == ERRCODE_CANNOT_CONNECT_NOW;
}

bool transform_failure_is_not_the_rows(const ErrorData *error) {
    return error->sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE || failure_is_not_the_rows(error);
}

}  // namespace pg_ingest
