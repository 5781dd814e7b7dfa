"""Fixtures for integration tests: real PostgreSQL clusters with pg_ingest preloaded."""
import os
import shutil
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

    def log(self):
        return (self.dir / "server.log").read_text(errors="replace")

    def worker_pid(self, source, dbname="postgres", timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                rows = self.query("SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                                  (f"pg_ingest: {source}",), dbname)
            except psycopg2.OperationalError:
                # A kill -9 makes the postmaster end every session while it reinitialises.
                time.sleep(0.05)
                continue
            if rows:
                return rows[0][0]
            time.sleep(0.02)
        raise AssertionError(f"no worker for source {source}")


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


def wait_idle(cluster, source, timeout="120s", dbname="postgres"):
    assert cluster.scalar("SELECT ingest.wait_idle(%s, %s)", (source, timeout), dbname) is True
