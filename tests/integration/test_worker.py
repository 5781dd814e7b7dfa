"""The background worker: streaming ingestion, exactly once, through stops, restarts and crashes."""
import json
import os
import random
import threading
import time

import pytest

from conftest import (eventgen, eventgen_ddl, new_source, postgres_dir, wait_idle, wait_until,
                      write_csv_atomically)

SIMPLE_COLUMNS = "id bigint PRIMARY KEY, payload text NOT NULL"


def simple_lines(first_id, count):
    return [f"{i},payload {i}" for i in range(first_id, first_id + count)]


def new_simple_source(cluster, name, directory, **arguments):
    new_source(cluster, directory, name, SIMPLE_COLUMNS, **arguments)


def test_end_to_end_generator_files(cluster, data_dir):
    cluster.query(eventgen_ddl())
    cluster.query("SELECT ingest.create_source('events', %s, 'user_events')", (str(data_dir),))
    assert cluster.scalar("SELECT ingest.start('events')") is True
    eventgen(data_dir, "--files", 5, "--events", 30000)
    wait_idle(cluster, "events")
    assert cluster.query("SELECT count(*), count(DISTINCT event_id) FROM user_events") == [(150000, 150000)]
    files = cluster.query("SELECT status, rows_loaded, rows_rejected FROM ingest.files "
                          "WHERE source = 'events' ORDER BY file_name")
    assert files == [("done", 30000, 0)] * 5
    status = cluster.query("SELECT files_done, files_pending, files_failed, rows_loaded "
                           "FROM ingest.status WHERE source = 'events'")
    assert status == [(5, 0, 0, 150000)]
    assert 'pg_ingest source "events": loaded file' in cluster.log()
    cluster.query("SELECT ingest.stop('events')")


def test_renamed_files_are_each_loaded(cluster, data_dir):
    """Files renamed in one at a time each load. Their latency is measured by bench/bench.py."""
    new_simple_source(cluster, "renamed", data_dir)
    cluster.query("SELECT ingest.start('renamed')")
    cluster.worker_pid("renamed")
    for attempt in range(20):
        name = f"batch_{attempt:03d}.csv"
        tmp = data_dir / f".{name}.tmp"
        tmp.write_text("id,payload\n" + "\n".join(simple_lines(attempt * 1000, 1000)) + "\n")
        os.rename(tmp, data_dir / name)
        wait_until(lambda: cluster.query(
            "SELECT status, rows_loaded FROM ingest.files WHERE source = 'renamed' "
            "AND file_name = %s", (name,)) == [("done", 1000)], 60, f"{name} to be done")
    assert cluster.query("SELECT count(*), count(DISTINCT id) FROM renamed") == [(20000, 20000)]
    cluster.query("SELECT ingest.stop('renamed')")


def test_kill_9_and_immediate_shutdown_lose_and_duplicate_nothing(cluster, data_dir):
    new_simple_source(cluster, "crashy", data_dir, batch_size=500)
    cluster.query("SELECT ingest.start('crashy')")
    files, rows_per_file = 60, 5000
    done_writing = threading.Event()

    def produce():
        for n in range(files):
            write_csv_atomically(data_dir, f"part_{n:04d}.csv", "id,payload",
                                 simple_lines(n * rows_per_file, rows_per_file))
            time.sleep(0.05)
        done_writing.set()

    producer = threading.Thread(target=produce)
    producer.start()
    rng = random.Random(42)
    killed = set()
    for _ in range(10):
        time.sleep(rng.uniform(0.05, 0.4))
        victims, restarted = cluster.kill_workers("crashy")
        killed.update(victims)
        assert not killed & set(restarted)
    cluster.stop("immediate")
    cluster.start()
    assert cluster.worker_pid("crashy") not in killed
    producer.join()
    wait_idle(cluster, "crashy", "300s")
    total = files * rows_per_file
    assert cluster.query("SELECT count(*), count(DISTINCT id) FROM crashy") == [(total, total)]
    assert cluster.query("SELECT count(*), sum(rows_loaded) FROM ingest.files "
                         "WHERE source = 'crashy' AND status = 'done'") == [(files, total)]
    cluster.query("SELECT ingest.stop('crashy')")


def test_stop_mid_file_then_start_and_restart_keep_state(cluster, data_dir):
    new_simple_source(cluster, "pausable", data_dir, batch_size=100)
    cluster.query("SELECT ingest.start('pausable')")
    cluster.worker_pid("pausable")
    write_csv_atomically(data_dir, "a_big.csv", "id,payload", simple_lines(0, 200000))
    wait_until(lambda: cluster.scalar("SELECT count(*) FROM pausable") > 0, 30, "a first batch")
    assert cluster.scalar("SELECT ingest.stop('pausable')") is True
    wait_until(lambda: cluster.workers("pausable") == [], 30, "the worker to exit")
    partial = cluster.scalar("SELECT count(*) FROM pausable")
    assert 0 < partial < 200000
    assert cluster.scalar("SELECT state FROM ingest.status WHERE source = 'pausable'") == "stopped"
    for n in range(3):
        write_csv_atomically(data_dir, f"b_more_{n}.csv", "id,payload",
                             simple_lines(1000000 + n * 1000, 1000))
    time.sleep(0.5)
    assert cluster.scalar("SELECT count(*) FROM pausable") == partial
    # A stopped source stays stopped across a restart.
    cluster.stop()
    cluster.start()
    time.sleep(1)
    assert cluster.scalar("SELECT count(*) FROM pausable") == partial
    assert cluster.scalar("SELECT ingest.start('pausable')") is True
    wait_idle(cluster, "pausable")
    assert cluster.query("SELECT count(*), count(DISTINCT id) FROM pausable") == [(203000, 203000)]
    # A started source resumes after a restart.
    cluster.stop()
    cluster.start()
    cluster.worker_pid("pausable")
    write_csv_atomically(data_dir, "c_after_restart.csv", "id,payload", simple_lines(2000000, 10))
    wait_idle(cluster, "pausable")
    assert cluster.scalar("SELECT count(*) FROM pausable") == 203010
    cluster.query("SELECT ingest.stop('pausable')")


def test_partially_written_files_are_not_read(cluster, data_dir):
    new_simple_source(cluster, "partial", data_dir)
    cluster.query("SELECT ingest.start('partial')")
    cluster.worker_pid("partial")
    # Still open for writing, never closed yet.
    open_file = open(data_dir / "open.csv", "w")
    open_file.write("id,payload\n1,one\n2,tw")
    open_file.flush()
    # Written under a temp name, not renamed yet.
    (data_dir / ".hidden.csv").write_text("id,payload\n10,ten\n")
    (data_dir / "staging.csv.tmp").write_text("id,payload\n11,eleven\n")
    time.sleep(2.5)  # longer than a rescan
    assert cluster.scalar("SELECT count(*) FROM partial") == 0
    assert cluster.scalar("SELECT count(*) FROM ingest.files WHERE source = 'partial'") == 0
    open_file.write("o\n3,three\n")
    open_file.close()
    wait_idle(cluster, "partial")
    assert cluster.query("SELECT id, payload FROM partial ORDER BY id") == [
        (1, "one"), (2, "two"), (3, "three")]
    cluster.query("SELECT ingest.stop('partial')")


@pytest.mark.parametrize("statement", ["DROP DATABASE doomed", "DROP EXTENSION pg_ingest CASCADE"])
def test_drop_with_a_running_source_completes(cluster, statement):
    directory = postgres_dir("pg_ingest_drop_")
    cluster.query("DROP DATABASE IF EXISTS doomed")
    cluster.query("CREATE DATABASE doomed")
    cluster.query("CREATE EXTENSION pg_ingest", dbname="doomed")
    cluster.query(f"CREATE TABLE t ({SIMPLE_COLUMNS})", dbname="doomed")
    cluster.query("SELECT ingest.create_source('doomed', %s, 't')", (str(directory),), "doomed")
    cluster.query("SELECT ingest.start('doomed')", dbname="doomed")
    cluster.worker_pid("doomed", dbname="doomed")
    # DROP DATABASE fails if a session stays connected; DROP EXTENSION would wait on the
    # worker's locks: both succeed only because the worker leaves (statement_timeout only so
    # that a hang fails). How long it takes is a benchmark case (bench/bench.py,
    # drop_with_running_source).
    conn = cluster.connect("postgres" if "DATABASE" in statement else "doomed")
    try:
        with conn.cursor() as cur:
            cur.execute("SET statement_timeout = '120s'")
            cur.execute(statement)
    finally:
        conn.close()
    if "EXTENSION" in statement:
        assert cluster.scalar("SELECT count(*) FROM pg_stat_activity "
                              "WHERE application_name = 'pg_ingest: doomed'") == 0
        cluster.query("DROP DATABASE doomed")


@pytest.mark.parametrize("action", ["delete", "move"])
def test_on_success_removes_loaded_files_after_commit(cluster, data_dir, action):
    archive = postgres_dir("pg_ingest_archive_")
    options = {"on_success": action}
    if action == "move":
        options["archive_directory"] = str(archive)
    name = f"tidy_{action}"
    new_simple_source(cluster, name, data_dir, options=json.dumps(options))
    cluster.query("SELECT ingest.start(%s)", (name,))
    write_csv_atomically(data_dir, "one.csv", "id,payload", simple_lines(0, 10))
    write_csv_atomically(data_dir, "two.csv", "id,payload", simple_lines(10, 10))
    wait_idle(cluster, name)
    assert cluster.query(f"SELECT count(*) FROM {name}") == [(20,)]
    assert cluster.query("SELECT file_name, status FROM ingest.files WHERE source = %s "
                         "ORDER BY file_name", (name,)) == [("one.csv", "done"), ("two.csv", "done")]
    # The files go right after the commit that marked them done, which wait_idle already sees.
    wait_until(lambda: not any(data_dir.iterdir()), 60, "the loaded files to go")
    expected_archive = ["one.csv", "two.csv"] if action == "move" else []
    assert sorted(p.name for p in archive.iterdir()) == expected_archive
    cluster.query("SELECT ingest.stop(%s)", (name,))


def shared_resident_kb(pid):
    """How much shared memory is mapped into the process's page tables."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssShmem:"):
                return int(line.split()[1])
    raise AssertionError("no RssShmem")


def idle_worker(cluster, source):
    pid = cluster.worker_pid(source)
    wait_until(lambda: cluster.scalar("SELECT state FROM ingest.status WHERE source = %s",
                                      (source,)) == "idle", 30, "the worker to be idle")
    return pid


def test_worker_maps_the_shared_buffer_pool_as_it_starts_unless_told_not_to(cluster, data_dir):
    pool_kb = cluster.scalar("SELECT setting::bigint * 8 FROM pg_settings "
                             "WHERE name = 'shared_buffers'")
    cluster.query("CREATE TABLE mapped (id bigint)")
    cluster.query("SELECT ingest.create_source('mapped', %s, 'mapped')", (str(data_dir),))
    cluster.query("SELECT ingest.start('mapped')")
    assert shared_resident_kb(idle_worker(cluster, "mapped")) >= pool_kb
    cluster.query("SELECT ingest.stop('mapped')")
    cluster.query("ALTER SYSTEM SET pg_ingest.prefault_buffers = off")
    cluster.query("SELECT pg_reload_conf()")
    try:
        time.sleep(0.5)
        cluster.query("SELECT ingest.start('mapped')")
        # Without it the worker maps only the pages it touched: a few catalog pages.
        assert shared_resident_kb(idle_worker(cluster, "mapped")) < pool_kb / 2
    finally:
        cluster.query("ALTER SYSTEM RESET pg_ingest.prefault_buffers")
        cluster.query("SELECT pg_reload_conf()")
        cluster.query("SELECT ingest.drop_source('mapped')")
        cluster.query("DROP TABLE mapped")
