"""Latency cases of bench/bench.py: how soon things happen, which the tests only wait for.

- crowded_latency: a new file's file-to-commit delay among KNOWN_FILES files already loaded (the
  directory and the catalog both hold them);
- purge_latency: a new file's delay among PURGED_ROWS rows of ingest.files, before and while
  pg_ingest.files_retention purges them;
- waiting_source_start: how soon a source waiting for a background worker starts once another
  source's stop frees one;
- drop_with_running_source: DROP DATABASE and DROP EXTENSION with a running source.
Each prints one line of milliseconds (p50 and max over its rounds). Scaled by SCALE (at most 1).
"""
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from conftest import Cluster, postgres_dir, wait_until, write_csv_atomically

SCALE = min(float(os.environ.get("SCALE", "1")), 1.0)
KNOWN_FILES = max(100, round(100_000 * SCALE))
PURGED_ROWS = max(1_000, round(1_000_000 * SCALE))
ROUNDS = 5


def done_delay_ms(cluster, directory, source, name, row_id):
    """Writes a one-row file and returns the milliseconds until its row in ingest.files is done."""
    write_csv_atomically(directory, name, "id,payload", [f"{row_id},new"])
    arrived = time.monotonic()
    wait_until(lambda: cluster.query(
        "SELECT status FROM ingest.files WHERE source = %s AND file_name = %s",
        (source, name)) == [("done",)], 60, f"{name} to be done", interval=0.002)
    return (time.monotonic() - arrived) * 1000


def summary(delays_ms):
    return f"p50 {statistics.median(delays_ms):.0f} ms, max {max(delays_ms):.0f} ms"


def mark_done(cluster, source, names):
    """Records files of the directory as loaded (their real size, mtime and inode)."""
    stats = [os.lstat(name) for name in names]
    cluster.query(
        "INSERT INTO ingest.files (source, file_name, file_size, file_mtime, file_inode, status, "
        "  rows_loaded, finished_at, content_sha256) "
        "SELECT %s, n, s, pg_catalog.to_timestamp(0) + m * interval '1 microsecond', i, 'done', "
        "  1, now(), sha256(convert_to(n, 'UTF8')) "
        "FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::bigint[]) AS f(n, s, m, i)",
        (source, [Path(n).name for n in names],
         [st.st_size for st in stats], [st.st_mtime_ns // 1000 for st in stats],
         [st.st_ino for st in stats]))


def start_idle(cluster, source):
    cluster.query("SELECT ingest.start(%s)", (source,))
    cluster.worker_pid(source)
    assert cluster.scalar("SELECT ingest.wait_idle(%s, '600s')", (source,)) is True


def crowded_latency(cluster):
    directory = postgres_dir("pg_ingest_bench_crowded_")
    try:
        cluster.query("CREATE TABLE crowded (id bigint, payload text)")
        cluster.query("SELECT ingest.create_source('crowded', %s, 'crowded')", (str(directory),))
        names = []
        for i in range(KNOWN_FILES):
            path = directory / f"old_{i:06d}.csv"
            path.write_text(f"id,payload\n{i},x\n")
            names.append(str(path))
        mark_done(cluster, "crowded", names)
        start_idle(cluster, "crowded")
        delays = [done_delay_ms(cluster, directory, "crowded", f"new_{n}.csv", n)
                  for n in range(ROUNDS)]
        print(f"new-file delay among {KNOWN_FILES} loaded files: {summary(delays)}", flush=True)
    finally:
        cluster.query("SELECT ingest.drop_source('crowded')")
        cluster.query("DROP TABLE crowded")
        shutil.rmtree(directory, ignore_errors=True)


def set_retention(cluster, value):
    cluster.query(f"ALTER SYSTEM SET pg_ingest.files_retention = '{value}'")
    cluster.query("SELECT pg_reload_conf()")
    wait_until(lambda: cluster.scalar("SHOW pg_ingest.files_retention") == value, 60,
               f"files_retention = {value}")


def purge_latency(cluster):
    directory = postgres_dir("pg_ingest_bench_purge_")
    try:
        cluster.query("CREATE TABLE crowd (id bigint PRIMARY KEY, payload text)")
        cluster.query("SELECT ingest.create_source('crowd', %s, 'crowd')", (str(directory),))
        cluster.query(
            "INSERT INTO ingest.files (source, file_name, file_size, file_mtime, file_inode, "
            "  status, rows_loaded, finished_at, content_sha256) "
            "SELECT 'crowd', 'gone_' || lpad(g::text, 7, '0') || '.csv', 100, "
            "  pg_catalog.to_timestamp(0), g, 'done', 1, now() - interval '1 day', "
            "  sha256(int8send(g)) FROM generate_series(1, %s) g", (PURGED_ROWS,))
        cluster.query("VACUUM ANALYZE ingest.files")
        start_idle(cluster, "crowd")
        before = [done_delay_ms(cluster, directory, "crowd", f"before_{n}.csv", n)
                  for n in range(ROUNDS)]
        set_retention(cluster, "1h")
        during = []
        while cluster.scalar("SELECT count(*) FROM ingest.files WHERE source = 'crowd'") > \
                PURGED_ROWS // 2 and len(during) < 20:
            during.append(done_delay_ms(cluster, directory, "crowd", f"during_{len(during)}.csv",
                                        1000 + len(during)))
        print(f"new-file delay among {PURGED_ROWS} rows of ingest.files: before the purge "
              f"{summary(before)}; during it {summary(during) if during else 'none arrived'} "
              f"({len(during)} files)", flush=True)
    finally:
        set_retention(cluster, "-1")
        cluster.query("SELECT ingest.drop_source('crowd')")
        cluster.query("DROP TABLE crowd")
        shutil.rmtree(directory, ignore_errors=True)


def waiting_source_start():
    """Three sources under max_worker_processes = 4 (pg_ingest's launcher and the logical
    replication launcher hold two): one waits; a stop frees its slot, rounds times over."""
    base = Path(tempfile.mkdtemp(prefix="pg_ingest_bench_budget_"))
    base.chmod(0o755)
    dirs = [postgres_dir(f"pg_ingest_bench_budget_{i}_") for i in range(3)]
    cluster = None
    try:
        cluster = Cluster(base / "pg", ["max_worker_processes = 4"])
        cluster.query("CREATE EXTENSION pg_ingest")
        for i, directory in enumerate(dirs):
            cluster.query(f"CREATE TABLE w{i} (id bigint, payload text)")
            cluster.query(f"SELECT ingest.create_source('w{i}', %s, 'w{i}')", (str(directory),))
        cluster.query("SELECT ingest.start()")

        def state_of(source):
            return cluster.scalar("SELECT state FROM ingest.status WHERE source = %s", (source,))

        delays = []
        for _ in range(ROUNDS):
            waiting = wait_until(lambda: [s for s in ("w0", "w1", "w2")
                                          if state_of(s) == "waiting for a worker"], 60,
                                 "a waiting source")[0]
            running = next(s for s in ("w0", "w1", "w2")
                           if s != waiting and state_of(s) not in ("stopped",))
            stopped_at = time.monotonic()
            cluster.query("SELECT ingest.stop(%s)", (running,))
            wait_until(lambda: state_of(waiting) not in ("waiting for a worker", "starting"), 60,
                       f"{waiting} to start", interval=0.002)
            delays.append((time.monotonic() - stopped_at) * 1000)
            cluster.query("SELECT ingest.start(%s)", (running,))
        print(f"start of a source waiting for a worker, from the stop that frees one: "
              f"{summary(delays)}", flush=True)
    finally:
        if cluster:
            cluster.destroy()
        for directory in dirs:
            shutil.rmtree(directory, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)


def drop_with_running_source(cluster):
    directory = postgres_dir("pg_ingest_bench_drop_")
    results = []
    try:
        for statement in ("DROP DATABASE doomed", "DROP EXTENSION pg_ingest CASCADE"):
            cluster.query("DROP DATABASE IF EXISTS doomed")
            cluster.query("CREATE DATABASE doomed")
            cluster.query("CREATE EXTENSION pg_ingest", dbname="doomed")
            cluster.query("CREATE TABLE t (id bigint, payload text)", dbname="doomed")
            cluster.query("SELECT ingest.create_source('doomed', %s, 't')", (str(directory),),
                          "doomed")
            cluster.query("SELECT ingest.start('doomed')", dbname="doomed")
            cluster.worker_pid("doomed", dbname="doomed")
            started = time.monotonic()
            cluster.query(statement, dbname="postgres" if "DATABASE" in statement else "doomed")
            results.append(f"{statement}: {(time.monotonic() - started) * 1000:.0f} ms")
        cluster.query("DROP DATABASE IF EXISTS doomed")
        print(f"with a running source: {'; '.join(results)}", flush=True)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def latency_cases(cluster):
    crowded_latency(cluster)
    purge_latency(cluster)
    waiting_source_start()
    drop_with_running_source(cluster)
