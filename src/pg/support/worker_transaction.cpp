#include "pg/support/worker_transaction.hpp"

extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
}

namespace pg_ingest {

namespace {

void (*transaction_check)() = nullptr;

// For this transaction only (SET LOCAL): the commit reads the setting when it is made.
void set_commit_durability(CommitDurability durability) {
    (void)set_config_option("synchronous_commit",
                            durability == CommitDurability::Synchronous ? "on" : "off", PGC_USERSET,
                            PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
}

}  // namespace

void begin_worker_transaction(CommitDurability durability) {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    if (durability != CommitDurability::ServerDefault) set_commit_durability(durability);
    SPI_connect();
    PushActiveSnapshot(GetTransactionSnapshot());
    if (transaction_check != nullptr) transaction_check();
}

void check_every_worker_transaction(void (*check)()) {
    transaction_check = check;
}

void require_synchronous_commit() {
    set_commit_durability(CommitDurability::Synchronous);
}

void commit_worker_transaction() {
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
}

}  // namespace pg_ingest
