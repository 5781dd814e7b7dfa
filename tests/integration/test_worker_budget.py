"""A started source that cannot get a background worker says so, in
ingest.status, ingest.workers and a NOTICE of ingest.start, and starts once a slot frees
up."""
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import Cluster, postgres_dir, wait_idle, wait_until, write_csv_atomically

SOURCES = 10
WAITING = "waiting for a worker"


@pytest.fixture
def small_cluster():
    base = Path(tempfile.mkdtemp(prefix="pg_ingest_budget_"))
    base.chmod(0o755)
    c = Cluster(base / "pg", ["max_worker_processes = 8"])
    c.query("CREATE EXTENSION pg_ingest")
    yield c
    c.destroy()
    shutil.rmtree(base, ignore_errors=True)


def states(cluster):
    return dict(cluster.query("SELECT source, state FROM ingest.status"))


def test_ten_sources_under_eight_worker_processes(small_cluster):
    cluster = small_cluster
    dirs = []
    for i in range(SOURCES):
        directory = postgres_dir(f"pg_ingest_budget_{i}_")
        dirs.append(directory)
        cluster.query(f"CREATE TABLE t{i} (id bigint PRIMARY KEY)")
        cluster.query(f"SELECT ingest.create_source('s{i}', %s, 't{i}')", (str(directory),))
        write_csv_atomically(directory, "a.csv", "id", [str(n) for n in range(100)])
    try:
        # Besides pg_ingest's launcher, the server runs its logical replication launcher: six
        # slots are left for source workers.
        others = cluster.scalar("SELECT count(*) FROM pg_stat_activity "
                                "WHERE backend_type = 'logical replication launcher'")
        assert others == 1
        running_count = 8 - 1 - others
        conn = cluster.connect()
        with conn.cursor() as cur:
            cur.execute("SELECT ingest.start()")
            assert cur.fetchone()[0] is True
        notices = list(conn.notices)
        conn.close()
        expected_error = (f"no background worker is free: max_worker_processes is 8 and pg_ingest "
                          f"holds {running_count + 1} of them (its launcher and {running_count} "
                          f"source workers); the source starts as soon as one is free")
        hint = ("HINT:  Raise max_worker_processes and restart the server, or stop another "
                "source: pg_ingest needs one for its launcher, one for the scanner of a database "
                "while it runs, and one per worker of each started source.")
        waiting = SOURCES - running_count

        # The starved ones say why: in a NOTICE of ingest.start, in ingest.status and in
        # ingest.workers; the others load.
        starved = sorted(s for s, state in states(cluster).items() if state == WAITING)
        assert len(starved) == waiting
        assert sorted(notices) == sorted(
            f'NOTICE:  pg_ingest source "{s}" is {WAITING}: {expected_error}\n{hint}\n'
            for s in starved)
        assert cluster.query(
            "SELECT source, pid, last_error FROM ingest.status WHERE state = %s ORDER BY source",
            (WAITING,)) == [(s, None, expected_error) for s in starved]
        assert cluster.query(
            "SELECT source, worker, pid, state, last_error FROM ingest.workers WHERE pid IS NULL "
            "ORDER BY source") == [(s, 1, None, WAITING, expected_error) for s in starved]
        loaded = sorted(set(states(cluster)) - set(starved))
        for source in loaded:
            wait_idle(cluster, source)
            assert cluster.scalar(f"SELECT count(*) FROM t{source[1:]}") == 100

        # Stopping loaded sources frees their slots: each waiting source starts (how soon is a
        # benchmark case, bench/bench.py's waiting_source_start).
        cluster.query("SELECT ingest.stop(name) FROM unnest(%s::text[]) name",
                      (loaded[:waiting],))
        wait_until(lambda: all(states(cluster)[s] not in (WAITING, "starting") for s in starved),
                   60, "the waiting sources to start")
        for source in starved:
            wait_idle(cluster, source)
        # Every file landed.
        for i in range(SOURCES):
            assert cluster.scalar(f"SELECT count(*) FROM t{i}") == 100
            assert cluster.query(f"SELECT status FROM ingest.files WHERE source = 's{i}'") == [
                ("done",)]
        assert not any(state == WAITING for state in states(cluster).values())
    finally:
        for directory in dirs:
            shutil.rmtree(directory, ignore_errors=True)
