"""Exactly once into Citus tables through crashes: a distributed table (hash by event_id) and a
reference table on a coordinator and two Citus worker nodes (citus_formation.py).

Citus commits a batch that touches several nodes with two-phase commit: PREPARE TRANSACTION on
the nodes before the coordinator's commit, COMMIT PREPARED right after it, and a recovery record
on the coordinator that its maintenance daemon uses every citus.recover_2pc_interval to commit or
roll back what a crash left prepared. pg_ingest commits those batches synchronously, so a crash
either keeps a batch's rows, its recovery records and the file's offset, or none of them: no
replay of committed rows, no reject. Run by tests/citus/run.sh (docs/distributed.md).
"""
import csv
import os
import random
import signal
import subprocess
import threading
import time

import pytest

from citus_formation import Formation
from conftest import EVENTGEN, eventgen_ddl, wait_idle, wait_until

BATCH_SIZE = 1000


@pytest.fixture(scope="module")
def formation():
    f = Formation()
    yield f
    f.destroy()


def create_targets(coordinator):
    ddl = eventgen_ddl()
    coordinator.query(ddl)
    coordinator.query("SELECT create_distributed_table('user_events', 'event_id')")
    coordinator.query(ddl.replace("CREATE TABLE user_events", "CREATE TABLE ref_events"))
    coordinator.query("SELECT create_reference_table('ref_events')")


def produce(directory, prefix, files, events, written):
    """Writes `files` files of `events` generated events, one every 50 ms, as they would arrive."""
    for n in range(files):
        subprocess.run([str(EVENTGEN), "--out", str(directory), "--events", str(events),
                        "--files", "1", "--prefix", f"{prefix}{n}"], check=True,
                       capture_output=True)
        written.append(events)
        time.sleep(0.05)


def loaded_rows(coordinator, source):
    return coordinator.scalar("SELECT coalesce(sum(rows_loaded), 0)::bigint FROM ingest.files "
                              "WHERE source = %s", (source,))


def assert_every_event_once(formation, table, source, total, files):
    coordinator = formation.coordinator
    assert coordinator.query(f"SELECT count(*), count(DISTINCT event_id) FROM {table}") == [
        (total, total)]
    # Citus's two-phase commit and the synchronous batch commit: no batch came back.
    assert coordinator.query("SELECT count(*), sum(rows_loaded), sum(rows_rejected) "
                             "FROM ingest.files WHERE source = %s AND status = 'done'",
                             (source,)) == [(files, total, 0)]
    assert coordinator.scalar("SELECT count(*) FROM ingest.rejects WHERE source = %s",
                              (source,)) == 0


def test_ten_kill_9_and_an_immediate_stop_load_every_event_once(formation):
    coordinator = formation.coordinator
    create_targets(coordinator)
    sources = {"dist": ("user_events", 6, 20000), "ref": ("ref_events", 4, 10000)}
    written = {name: [] for name in sources}
    producers = []
    for name, (table, files, events) in sources.items():
        directory = formation.data_dir(f"data_{name}")
        coordinator.query("SELECT ingest.create_source(%s, %s, %s, batch_size => %s)",
                          (name, str(directory), table, BATCH_SIZE))
        coordinator.query("SELECT ingest.start(%s)", (name,))
        producers.append(threading.Thread(target=produce, args=(directory, name, files, events,
                                                                written[name])))
    for producer in producers:
        producer.start()

    rng = random.Random(13)
    killed = set()
    for kill in range(10):
        # Every kill lands while batches go on: a little more of the distributed table loaded.
        at_least = loaded_rows(coordinator, "dist") + BATCH_SIZE
        wait_until(lambda: loaded_rows(coordinator, "dist") >= at_least, 120,
                   f"the batch before kill {kill + 1}")
        time.sleep(rng.uniform(0.0, 0.5))
        victims, restarted = formation.coordinator.kill_workers(("dist", "ref")[kill % 2])
        killed.update(victims)
        assert not killed & set(restarted)
    coordinator.stop("immediate")
    coordinator.start()
    for producer in producers:
        producer.join()
    for name, (table, files, events) in sources.items():
        wait_idle(coordinator, name, "600s")
        assert written[name] == [events] * files
        assert_every_event_once(formation, table, name, files * events, files)
    # A reference table is whole on every server: each placement holds every row once.
    placements = coordinator.query(
        "SELECT shard_name, nodename FROM citus_shards WHERE table_name = 'ref_events'::regclass")
    assert len(placements) == len(formation.servers)
    for shard, nodename in placements:
        server = next(s for s in formation.servers if str(s.dir) == nodename)
        assert server.query(f"SELECT count(*), count(DISTINCT event_id) FROM {shard}") == [
            (40000, 40000)]
    formation.wait_for_no_prepared_transactions()
    for name in sources:
        coordinator.query("SELECT ingest.stop(%s)", (name,))


def node_backend_of(formation, node, worker_pid):
    """A backend on the node that serves the pg_ingest worker's batch and is in a transaction.
    Citus names its connections citus_internal gpid=<coordinator's node id * 10^10 + its pid>."""
    node_id = formation.coordinator.scalar("SELECT nodeid FROM pg_dist_node WHERE groupid = 0")
    rows = node.query("SELECT pid FROM pg_stat_activity WHERE application_name = %s "
                      "AND backend_xid IS NOT NULL",
                      (f"citus_internal gpid={node_id * 10**10 + worker_pid}",))
    return rows[0][0] if rows else None


def test_kill_9_of_a_node_backend_mid_batch_loads_every_event_once(formation):
    coordinator = formation.coordinator
    node = formation.nodes[0]
    coordinator.query(eventgen_ddl().replace("CREATE TABLE user_events",
                                             "CREATE TABLE node_crash_events"))
    coordinator.query("SELECT create_distributed_table('node_crash_events', 'event_id')")
    directory = formation.data_dir("data_node_crash")
    files, events = 4, 20000
    written = []
    produce(directory, "node_crash", files, events, written)
    coordinator.query("SELECT ingest.create_source('node_crash', %s, 'node_crash_events', "
                      "batch_size => %s)", (str(directory), BATCH_SIZE))
    coordinator.query("SELECT ingest.start('node_crash')")
    worker_pid = coordinator.worker_pid("node_crash")
    wait_until(lambda: loaded_rows(coordinator, "node_crash") >= 2 * BATCH_SIZE, 120,
               "two batches loaded")
    log_offset = (node.dir / "server.log").stat().st_size
    victim = wait_until(lambda: node_backend_of(formation, node, worker_pid), 60,
                        "a node backend in the worker's batch")
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: "database system is ready to accept connections" in node.log(log_offset),
               120, "the node's crash restart")
    wait_idle(coordinator, "node_crash", "600s")
    assert coordinator.query("SELECT file_name, status, error FROM ingest.files "
                             "WHERE source = 'node_crash' AND status <> 'done'") == []
    assert coordinator.scalar("SELECT pid FROM ingest.workers WHERE source = 'node_crash'") == \
        worker_pid, "the node's crash is not the coordinator's: the same worker goes on"
    assert_every_event_once(formation, "node_crash_events", "node_crash", files * events, files)
    formation.wait_for_no_prepared_transactions()
    coordinator.query("SELECT ingest.stop('node_crash')")


def test_prepared_transaction_left_by_a_crash_is_resolved_before_the_first_batch(formation):
    """A prepared transaction that a crashed coordinator backend left on a node, holding a key of
    the next batch, with no recovery record: Citus's maintenance daemon would roll it back only
    at its next recovery, and never while a distributed transaction of the same number waits on
    it. With that recovery switched off, the worker still loads the file at once: it resolves the
    prepared transactions itself before its first batch."""
    coordinator = formation.coordinator
    coordinator.query(eventgen_ddl().replace("CREATE TABLE user_events",
                                             "CREATE TABLE left_prepared_events"))
    coordinator.query("SELECT create_distributed_table('left_prepared_events', 'event_id')")
    directory = formation.data_dir("data_left_prepared")
    events = 5000
    produce(directory, "left_prepared", 1, events, [])
    (path,) = directory.glob("*.csv")
    with open(path, newline="") as f:
        first_row = next(csv.DictReader(f))
    shard, nodename = coordinator.query(
        "SELECT shard_name, nodename FROM citus_shards "
        "WHERE shardid = get_shard_id_for_distribution_column('left_prepared_events', %s)",
        (first_row["event_id"],))[0]
    node = next(n for n in formation.nodes if str(n.dir) == nodename)
    conn = node.connect(autocommit=False)
    with conn.cursor() as cur:
        cur.execute(f"INSERT INTO {shard} VALUES ({', '.join(['%s'] * len(first_row))})",
                    list(first_row.values()))
        cur.execute("PREPARE TRANSACTION 'citus_0_4242_1_1'")
    conn.close()
    coordinator.query("ALTER SYSTEM SET citus.recover_2pc_interval = -1")
    coordinator.query("SELECT pg_reload_conf()")
    try:
        log_offset = coordinator.log_size()
        coordinator.query("SELECT ingest.create_source('left_prepared', %s, "
                          "'left_prepared_events', batch_size => %s)",
                          (str(directory), BATCH_SIZE))
        coordinator.query("SELECT ingest.start('left_prepared')")
        wait_idle(coordinator, "left_prepared", "120s")
        assert formation.prepared_transactions() == []
        assert_every_event_once(formation, "left_prepared_events", "left_prepared", events, 1)
        assert 'pg_ingest source "left_prepared": resolved 1 prepared transactions on the Citus ' \
            'nodes before loading' in coordinator.log(log_offset)
    finally:
        coordinator.query("ALTER SYSTEM RESET citus.recover_2pc_interval")
        coordinator.query("SELECT pg_reload_conf()")
    coordinator.query("SELECT ingest.stop('left_prepared')")
