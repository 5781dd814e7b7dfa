"""Fixtures and helpers for integration tests: real PostgreSQL clusters with pg_ingest preloaded."""
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "tests" / "cluster.sh"
EVENTGEN = ROOT / "build" / "eventgen"
# The PostgreSQL install under test: the one pg_ingest was installed into (default: Debian 12's
# own 15).
PG_CONFIG = os.environ.get("PG_CONFIG", "/usr/lib/postgresql/15/bin/pg_config")
PGBIN = subprocess.run([PG_CONFIG, "--bindir"], check=True, capture_output=True,
                       text=True).stdout.strip()

# The tests that cannot hold under the sanitizer job (scripts/sanitize.sh, which sets
# PG_INGEST_SANITIZED=1), with why; they run in every normal job.
NOT_UNDER_SANITIZERS = {
    "test_scale.py::test_worker_memory_stays_under_64_mb_on_a_1_gb_file_with_batch_size_100000":
        "ASan's shadow memory and freed-memory quarantine count in the worker's RssAnon",
}


def pytest_collection_modifyitems(config, items):
    if os.environ.get("PG_INGEST_SANITIZED") != "1":
        return
    left_out = [item for item in items
                if f"{Path(str(item.fspath)).name}::{item.name}" in NOT_UNDER_SANITIZERS]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]


class Cluster:
    """A throwaway cluster on a unix socket in its own directory."""

    def __init__(self, base: Path, extra_conf=()):
        self.dir = base
        subprocess.run([CLUSTER, "init", str(base), *extra_conf], check=True)
        self.start()

    def start(self):
        subprocess.run([CLUSTER, "start", str(self.dir)], check=True)

    def stop(self, mode="fast"):
        subprocess.run([CLUSTER, "stop", str(self.dir), mode], check=True)

    def destroy(self):
        subprocess.run([CLUSTER, "destroy", str(self.dir)], check=False)

    def connect(self, dbname="postgres", autocommit=True, attempts=300):
        for attempt in range(attempts):
            try:
                conn = psycopg2.connect(host=str(self.dir), port=5432, user="postgres", dbname=dbname)
                conn.autocommit = autocommit
                return conn
            except psycopg2.OperationalError:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.05)

    def query(self, sql, params=None, dbname="postgres"):
        conn = self.connect(dbname)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else None
        finally:
            conn.close()

    def scalar(self, sql, params=None, dbname="postgres"):
        return self.query(sql, params, dbname)[0][0]

    def worker_pid(self, source, dbname="postgres", timeout=60):
        """The pid of the source's (first) worker once it runs. Never use it to find the worker
        that follows a kill: the killed one stays in pg_stat_activity until the postmaster has
        noticed its death (use kill_workers)."""
        return wait_until(lambda: self.workers(source, dbname), timeout,
                          f"a running worker of source {source}")[0][1]

    def workers(self, source, dbname="postgres"):
        """(worker, pid) of each worker of the source that has attached and left 'starting'
        and that pg_stat_activity also shows."""
        return self.query(
            "SELECT w.worker, w.pid FROM ingest.workers w JOIN pg_stat_activity a USING (pid) "
            "WHERE w.source = %s AND w.state <> 'starting' ORDER BY w.worker", (source,), dbname)

    def wait_for_workers(self, source, count=1, dbname="postgres", gone=(), timeout=60):
        """Waits until exactly `count` workers of the source run, none with a pid in `gone`;
        returns their pids in worker order."""
        def settled():
            pids = [pid for _, pid in self.workers(source, dbname)]
            return pids if len(pids) == count and not set(pids) & set(gone) else None
        return wait_until(settled, timeout, f"{count} running worker(s) of source {source}")

    def kill_workers(self, source, numbers=None, dbname="postgres", timeout=120):
        """kill -9 of the source's workers (all, or those whose worker number is in `numbers`),
        once every one of them runs. The postmaster then ends every session and reinitialises;
        this returns only once it is ready again and the source runs as many workers as before,
        none of them with a pid it had before the kill. Returns (killed pids, new pids)."""
        def running():
            workers = self.workers(source, dbname)
            slots = self.scalar("SELECT count(*) FROM ingest.workers WHERE source = %s",
                                (source,), dbname)
            return workers if workers and len(workers) == slots else None
        # Workers still 'starting' (attached, not yet in their first round) are waited for.
        before = wait_until(running, timeout, f"worker(s) {numbers or 'all'} of {source} to run")
        victims = [pid for number, pid in before if numbers is None or number in numbers]
        log_offset = self.log_size()
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: "database system is ready to accept connections" in
                   self.log(since=log_offset), timeout, "the crash restart after a kill -9")
        new = self.wait_for_workers(source, len(before), dbname, [pid for _, pid in before],
                                    timeout)
        return victims, new

    def log_size(self):
        return (self.dir / "server.log").stat().st_size

    def log(self, since=0):
        with open(self.dir / "server.log", "rb") as f:
            f.seek(since)
            return f.read().decode(errors="replace")


def postgres_dir(prefix):
    """A directory the server (running as postgres) can read and write."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    shutil.chown(path, "postgres", "postgres")
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def cluster():
    base = Path(tempfile.mkdtemp(prefix="pg_ingest_it_"))
    base.chmod(0o755)
    c = Cluster(base / "pg")
    c.query("CREATE EXTENSION pg_ingest")
    yield c
    c.destroy()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def data_dir():
    path = postgres_dir("pg_ingest_data_")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def write_csv_atomically(directory: Path, name: str, header: str, lines):
    """Writes a file under a hidden temp name and renames it into place, as producers should."""
    tmp = directory / f".{name}.tmp"
    with open(tmp, "w") as f:
        f.write(header + "\n")
        for line in lines:
            f.write(line + "\n")
    os.rename(tmp, directory / name)


def eventgen(out: Path, *args):
    result = subprocess.run([str(EVENTGEN), "--out", str(out), *map(str, args)],
                            check=True, capture_output=True, text=True)
    return result.stdout


def eventgen_ddl():
    return subprocess.run([str(EVENTGEN), "--print-ddl"], check=True, capture_output=True,
                          text=True).stdout


def wait_until(predicate, timeout=30, what="condition", interval=0.02):
    """Polls predicate() until it returns something true and returns that. A server in a crash
    restart refuses connections for a while: an OperationalError counts as "not yet"."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            result = predicate()
            if result:
                return result
        except psycopg2.OperationalError as error:
            last_error = error
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}" +
                                 (f" (last error: {last_error})" if last_error else ""))
        time.sleep(interval)


def as_role(cluster, role, sql, params=None, dbname="postgres"):
    """Runs one statement after SET ROLE, on a connection of its own; returns its rows."""
    conn = cluster.connect(dbname)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SET ROLE {role}")
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def new_source(cluster, data_dir, name, columns="id bigint PRIMARY KEY, note text", start=False,
               **arguments):
    """Creates the table `name` (with `columns`) and a source of the same name that loads
    data_dir into it; `arguments` are create_source's named arguments (options as a JSON text)."""
    cluster.query(f"CREATE TABLE {name} ({columns})")
    named = "".join(f", {key} => %s" for key in arguments)
    cluster.query(f"SELECT ingest.create_source(%s, %s, %s{named})",
                  (name, str(data_dir), name, *arguments.values()))
    if start:
        cluster.query("SELECT ingest.start(%s)", (name,))


def notifications(conn, count, timeout=60):
    """The payloads of the next `count` pg_ingest notifications on a LISTENing connection, then
    whatever else arrives within a further half second (so an extra one is seen)."""
    received = []
    deadline = time.time() + timeout
    while len(received) < count and time.time() < deadline:
        select.select([conn], [], [], max(0.0, deadline - time.time()))
        conn.poll()
        while conn.notifies:
            note = conn.notifies.pop(0)
            assert note.channel == "pg_ingest"
            received.append(json.loads(note.payload))
    settle = time.time() + 0.5
    while time.time() < settle:
        select.select([conn], [], [], max(0.0, settle - time.time()))
        conn.poll()
        while conn.notifies:
            received.append(json.loads(conn.notifies.pop(0).payload))
    return received


def listen(cluster):
    """A connection that LISTENs on the pg_ingest channel."""
    conn = cluster.connect()
    conn.cursor().execute("LISTEN pg_ingest")
    return conn


def wait_idle(cluster, source, timeout="120s", dbname="postgres"):
    assert cluster.scalar("SELECT ingest.wait_idle(%s, %s)", (source, timeout), dbname) is True


def source_state(cluster, source):
    """The source's state and last_error in ingest.status."""
    return cluster.query("SELECT state, last_error FROM ingest.status WHERE source = %s",
                         (source,))[0]


def worker_running(cluster, source):
    return cluster.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                          (f"pg_ingest: {source}",)) > 0


def set_allowed_directories(cluster, value):
    cluster.query("ALTER SYSTEM SET pg_ingest.allowed_directories = %s", (value,))
    cluster.query("SELECT pg_reload_conf()")
    # A new session is forked from the postmaster: it shows the value once the reload is done.
    wait_until(lambda: cluster.scalar("SHOW pg_ingest.allowed_directories") == value)


def slow_down_statements(cluster, role, table):
    """Each statement that inserts into `table` (owned by `role`) then takes 0.1 s more: a batch
    takes a while, so that a kill or a revoke lands in the middle of a file."""
    as_role(cluster, role, f"""
        CREATE FUNCTION {table}_linger() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep(0.1); RETURN NULL; END $$;
        CREATE TRIGGER t AFTER INSERT ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {table}_linger()""")
