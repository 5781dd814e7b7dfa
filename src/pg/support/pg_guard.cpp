#include "pg/support/pg_guard.hpp"

namespace pg_ingest {

void raise_caught(const CaughtException &caught) {
    ereport(ERROR, (errcode(caught.sqlstate), errmsg("%s", caught.message)));
    pg_unreachable();
}

}  // namespace pg_ingest
