#include "pg/support/worker_transaction.hpp"

extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
}

namespace pg_ingest {

void begin_worker_transaction(CommitDurability durability) {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    if (durability != CommitDurability::ServerDefault)
        (void)set_config_option("synchronous_commit",
                                durability == CommitDurability::Synchronous ? "on" : "off",
                                PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
    SPI_connect();
    PushActiveSnapshot(GetTransactionSnapshot());
}

void commit_worker_transaction() {
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
}

}  // namespace pg_ingest
