#include "pg_guard.hpp"

namespace pg_ingest {

void raise_caught(const CaughtException &caught) {
    if (caught.pg_error != nullptr) ReThrowError(caught.pg_error);
    ereport(ERROR, (errcode(caught.sqlstate), errmsg("%s", caught.message)));
    pg_unreachable();
}

}  // namespace pg_ingest
