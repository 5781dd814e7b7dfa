// A background worker's transaction: a fresh now(), SPI connected and a snapshot pushed, and the
// durability its commit needs.
#pragma once

namespace pg_ingest {

enum class CommitDurability {
    ServerDefault,
    // A batch: a lost commit loses its rows and its offset together, so waiting for the flush
    // buys nothing.
    Asynchronous,
    // Something outside the database follows the commit: deleting or moving the file, or the
    // commits other servers made first (a batch into foreign tables or a Citus table).
    Synchronous,
};

void begin_worker_transaction(CommitDurability durability = CommitDurability::ServerDefault);
// From now on every worker transaction, once begun, runs `check` first (which may leave the
// process: the worker's catalog may have been dropped since its last transaction).
void check_every_worker_transaction(void (*check)());
void commit_worker_transaction();
// The current transaction's commit waits for its flush after all: what follows it became known
// only once the transaction had begun (a streamed span that turned out to finish its file).
void require_synchronous_commit();

}  // namespace pg_ingest
