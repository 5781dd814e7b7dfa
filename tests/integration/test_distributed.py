"""A target spread over other servers: a table partitioned by hash of user_id whose partitions are
postgres_fdw foreign tables on two shard servers, loaded exactly once through kill -9 of the worker.

postgres_fdw commits each remote transaction in the local transaction's pre-commit step, so a batch
can be committed on the shards while its local commit (the file's offset) is lost. The worker then
loads that batch again; the primary key on each shard refuses the replayed rows, which land in
ingest.rejects as duplicate keys instead of being inserted twice. Batches into foreign tables
commit synchronously, so at most the one batch in that window comes back (docs/distributed.md).
"""
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import Cluster, eventgen, eventgen_ddl, wait_idle, wait_until

SHARD_COUNT = 2
BATCH_SIZE = 1000


@pytest.fixture(scope="module")
def shards(cluster):
    """Two more servers, each on its own unix socket, as postgres_fdw servers shard0 and shard1."""
    base = Path(tempfile.mkdtemp(prefix="pg_ingest_shards_"))
    base.chmod(0o755)
    servers = [Cluster(base / f"shard{n}") for n in range(SHARD_COUNT)]
    cluster.query("CREATE EXTENSION postgres_fdw")
    for n, shard in enumerate(servers):
        # batch_size: one remote INSERT per 1,000 routed rows instead of one per row;
        # parallel_commit: the shards' COMMITs are sent together, then awaited.
        cluster.query(f"CREATE SERVER shard{n} FOREIGN DATA WRAPPER postgres_fdw "
                      "OPTIONS (host %s, port '5432', dbname 'postgres', "
                      "batch_size '1000', parallel_commit 'true')", (str(shard.dir),))
        cluster.query(f"CREATE USER MAPPING FOR postgres SERVER shard{n} OPTIONS (user 'postgres')")
    yield servers
    for shard in servers:
        shard.destroy()
    shutil.rmtree(base, ignore_errors=True)


def create_sharded_target(cluster, shards, name, unique_key=True):
    ddl = eventgen_ddl().replace("CREATE TABLE user_events", f"CREATE TABLE {name}")
    without_key = ddl.replace(" PRIMARY KEY", "")
    for shard in shards:
        shard.query(ddl if unique_key else without_key)  # event_id PRIMARY KEY refuses a replay
    # A partitioned table with foreign partitions cannot have a unique index of its own.
    parent = without_key.rstrip().rstrip(";")
    cluster.query(parent + " PARTITION BY HASH (user_id)")
    for n in range(len(shards)):
        cluster.query(f"CREATE FOREIGN TABLE {name}_shard{n} PARTITION OF {name} "
                      f"FOR VALUES WITH (MODULUS {len(shards)}, REMAINDER {n}) "
                      f"SERVER shard{n} OPTIONS (table_name '{name}')")


def set_config(server, setting, value):
    if value is None:
        server.query(f"ALTER SYSTEM RESET {setting}")
    else:
        server.query(f"ALTER SYSTEM SET {setting} = %s", (value,))
    server.query("SELECT pg_reload_conf()")


def loaded_rows(cluster, source):
    return cluster.scalar("SELECT coalesce(sum(rows_loaded), 0)::bigint FROM ingest.files "
                          "WHERE source = %s", (source,))


def wait_for_loaded_rows(cluster, source, at_least, timeout=60):
    wait_until(lambda: loaded_rows(cluster, source) >= at_least, timeout,
               f"source {source} to load {at_least} rows")


def assert_loaded_once_across_shards(cluster, shards, name, source, total):
    """Every event is on exactly one shard, the one its user_id hashes to, and every line of every
    file is either a loaded row or a rejected replay of a row that is on a shard."""
    per_shard = [shard.query(f"SELECT count(*), count(DISTINCT event_id) FROM {name}")[0]
                 for shard in shards]
    assert all(rows == distinct and rows > 0 for rows, distinct in per_shard)
    assert sum(rows for rows, _ in per_shard) == total
    assert cluster.query(f"SELECT count(*), count(DISTINCT event_id) FROM {name}") == [
        (total, total)]
    for remainder, shard in enumerate(shards):
        user_ids = shard.scalar(f"SELECT array_agg(DISTINCT user_id) FROM {name}")
        assert cluster.scalar(
            "SELECT count(*) FROM unnest(%s::bigint[]) AS u(user_id) "
            "WHERE NOT satisfies_hash_partition(%s::regclass, %s, %s, user_id)",
            (user_ids, name, len(shards), remainder)) == 0
    rejected = cluster.query("SELECT split_part(raw_line, ',', 1), error, sqlstate "
                             "FROM ingest.rejects WHERE source = %s", (source,))
    assert all(error.startswith("duplicate key value violates unique constraint")
               and sqlstate == "23505" for _, error, sqlstate in rejected)
    replayed_ids = [event_id for event_id, _, _ in rejected]
    assert sum(shard.scalar(f"SELECT count(*) FROM {name} WHERE event_id = ANY(%s::uuid[])",
                            (replayed_ids,)) for shard in shards) == len(rejected)
    assert cluster.query("SELECT sum(rows_loaded) + sum(rows_rejected) FROM ingest.files "
                         "WHERE source = %s", (source,)) == [(total,)]
    return len(rejected)


def test_kill_9_mid_load_leaves_every_event_once_across_shards(cluster, shards, data_dir):
    # The kill lands after two files of six: four files of room on any machine.
    files, events = 6, 30000
    total = files * events
    create_sharded_target(cluster, shards, "sharded_events")
    eventgen(data_dir, "--files", files, "--events", events)
    cluster.query("SELECT ingest.create_source('sharded', %s, 'sharded_events', batch_size => %s)",
                  (str(data_dir), BATCH_SIZE))
    assert cluster.scalar("SELECT ingest.start('sharded')") is True

    wait_for_loaded_rows(cluster, "sharded", 2 * events)
    assert loaded_rows(cluster, "sharded") < total - events, "loaded too fast to kill mid-load"
    killed, restarted = cluster.kill_workers("sharded")
    assert restarted != killed
    wait_idle(cluster, "sharded", "300s")

    replays = assert_loaded_once_across_shards(cluster, shards, "sharded_events", "sharded", total)
    files_state = cluster.query("SELECT status, rows_loaded + rows_rejected FROM ingest.files "
                                "WHERE source = 'sharded' ORDER BY file_name")
    assert files_state == [("done", events)] * files
    assert cluster.scalar("SELECT sum(rows_loaded) FROM ingest.files WHERE source = 'sharded'") \
        == total - replays
    cluster.query("SELECT ingest.stop('sharded')")


def load_through_a_held_commit(cluster, shards, data_dir, name, files, events):
    """Holds open the window postgres_fdw leaves: shard1 makes every commit wait for a synchronous
    standby that does not exist, so the worker is killed after sending its batch's COMMIT to both
    shards (parallel_commit): shard0 has committed, shard1's commit is durable and only waiting,
    and the local transaction with the file's offset dies. Then shard1 lets go. Returns the rows
    the worker had committed locally before the batch in doubt."""
    # Without a flush of its own, a batch's local commit would now stay in memory for seconds.
    set_config(cluster, "wal_writer_delay", "10s")
    cluster.query("SELECT ingest.create_source(%s, %s, %s, batch_size => %s)",
                  (name, str(data_dir), name, BATCH_SIZE))
    cluster.query("SELECT ingest.start(%s)", (name,))
    wait_for_loaded_rows(cluster, name, BATCH_SIZE)

    held = shards[1]
    set_config(held, "synchronous_standby_names", "nowhere")
    try:
        wait_until(lambda: held.scalar("SELECT count(*) FROM pg_stat_activity WHERE wait_event = "
                                       "'SyncRep' AND application_name = 'postgres_fdw'") > 0,
                   30, "a batch commit waiting on shard1")
        committed = loaded_rows(cluster, name)
        assert committed < files * events
        killed, restarted = cluster.kill_workers(name)
        assert restarted != killed
        # Every batch before the one in doubt survived the crash.
        assert loaded_rows(cluster, name) == committed
    finally:
        # Whatever failed, shard1 must not hold every later commit (and test) forever.
        set_config(held, "synchronous_standby_names", None)
    wait_idle(cluster, name)
    set_config(cluster, "wal_writer_delay", None)
    cluster.query("SELECT ingest.stop(%s)", (name,))
    return committed


def test_batch_committed_on_shards_but_not_locally_is_refused_when_replayed(cluster, shards,
                                                                            data_dir):
    files, events = 3, 10000
    create_sharded_target(cluster, shards, "replayed")
    eventgen(data_dir, "--files", files, "--events", events)
    names = sorted(p.name for p in data_dir.glob("*.csv"))
    committed = load_through_a_held_commit(cluster, shards, data_dir, "replayed", files, events)

    assert assert_loaded_once_across_shards(cluster, shards, "replayed", "replayed",
                                            files * events) == BATCH_SIZE
    in_doubt = committed // events
    first_line = committed % events + 2  # line 1 is the header
    assert cluster.query("SELECT file_name, min(line_number), max(line_number), count(*) "
                         "FROM ingest.rejects WHERE source = 'replayed' GROUP BY file_name") == [
        (names[in_doubt], first_line, first_line + BATCH_SIZE - 1, BATCH_SIZE)]
    assert cluster.query("SELECT status, rows_loaded, rows_rejected FROM ingest.files "
                         "WHERE source = 'replayed' ORDER BY file_name") == [
        ("done", events - BATCH_SIZE, BATCH_SIZE) if n == in_doubt else ("done", events, 0)
        for n in range(files)]


def test_without_a_unique_key_on_the_shards_that_batch_is_inserted_twice(cluster, shards,
                                                                         data_dir):
    """Why docs/distributed.md asks for the key: the same window without one."""
    files, events = 3, 10000
    total = files * events
    create_sharded_target(cluster, shards, "doubled", unique_key=False)
    eventgen(data_dir, "--files", files, "--events", events)
    load_through_a_held_commit(cluster, shards, data_dir, "doubled", files, events)

    per_shard = [shard.query("SELECT count(*), count(DISTINCT event_id) FROM doubled")[0]
                 for shard in shards]
    assert sum(rows for rows, _ in per_shard) == total + BATCH_SIZE
    assert sum(distinct for _, distinct in per_shard) == total
    assert cluster.scalar("SELECT count(*) FROM (SELECT event_id FROM doubled GROUP BY event_id "
                          "HAVING count(*) = 2) twice") == BATCH_SIZE
    assert cluster.query("SELECT status, rows_loaded, rows_rejected FROM ingest.files "
                         "WHERE source = 'doubled' ORDER BY file_name") == [
        ("done", events, 0)] * files
