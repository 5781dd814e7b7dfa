// Citus tables as targets: recognising them, and resolving the prepared transactions a crash
// left on their nodes before a batch meets them.
#pragma once

extern "C" {
#include "postgres.h"
}

#include "pg/catalog/source_definition.hpp"

namespace pg_ingest {

// A boolean query of one row whose $1 is the target (a regclass).
bool target_query_is_true(const char *sql, Oid target);

// A Citus table (distributed, reference or Citus local): its shards commit with Citus's
// two-phase commit, COMMIT PREPARED sent right after the local commit returns. False where the
// citus extension is not installed.
bool is_citus_table(Oid target);

enum class PreparedRecovery {
    not_citus,      // the target is no Citus table: nothing to resolve
    recovered,      // recover_prepared_transactions() ran as the owner
    not_permitted,  // the owner may not execute recover_prepared_transactions()
};

struct PreparedRecoveryResult {
    PreparedRecovery outcome;
    int resolved;  // prepared transactions committed or rolled back, when recovered
};

// Runs Citus's recover_prepared_transactions() as the source's owner when the target is a Citus
// table. After a crash of the coordinator, Citus's own recovery (every citus.recover_2pc_interval)
// skips a prepared transaction whose transaction number is that of a live distributed
// transaction, and numbers start again at 1 after a crash restart: a replayed batch that waits on
// such a prepared transaction holds that number for as long as it waits, so it would wait for
// ever. Resolved before the batch, by a worker with no distributed transaction of its own, that
// prepared transaction cannot stall it. In a transaction of the worker's (SPI connected).
PreparedRecoveryResult recover_citus_prepared_transactions(const SourceDefinition *source);

}  // namespace pg_ingest
