"""A database dumped with pg_dump on PostgreSQL 15 and restored on a newer major (the newest
scripts/test.sh ran, 19 by default) keeps its sources, file history and rejects, and its worker
resumes there without loading a done file again.

The 15 server runs natively; the newer server runs in its major's chroot (scripts/chroot.sh), where
scripts/test.sh's run of that major has installed pg_ingest. Both see the same directory (bound
into the chroot at the same path), so a file keeps its name, size, mtime and inode across the
move, as it does when a server is upgraded in place."""
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
CHROOT = ROOT / "scripts" / "chroot.sh"
PG_CONFIG = os.environ.get("PG_CONFIG", "/usr/lib/postgresql/15/bin/pg_config")
PGBIN = subprocess.run([PG_CONFIG, "--bindir"], check=True, capture_output=True,
                       text=True).stdout.strip()
# The major to restore on and its chroot: scripts/test.sh passes both; without them, 19 and the
# suite chroot.sh chooses for it.
NEW_MAJOR = int(os.environ.get("PG_INGEST_NEW_MAJOR", "19"))
NEW_SUITE = os.environ.get("PG_INGEST_NEW_SUITE") or subprocess.run(
    ["bash", str(CHROOT), "suite", str(NEW_MAJOR)], check=True, capture_output=True,
    text=True).stdout.strip()

# Run inside the chroot: a cluster of the new major in the shared directory that restarts on "restart" and is
# destroyed on "quit" or when the test goes away (stdin closed).
NEW_SERVER_SCRIPT = """
set -e
export PG_CONFIG=/usr/lib/postgresql/{major}/bin/pg_config
cluster={cluster}
$cluster init {dir}
$cluster start {dir}
echo started
while read -r command; do
    case $command in
    restart) $cluster stop {dir} fast; $cluster start {dir}; echo started ;;
    quit) break ;;
    esac
done
$cluster destroy {dir}
"""


def wait_until(predicate, timeout, what):
    """Polls predicate until it is true; fails naming what was awaited."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class Server:
    """A server reached through its socket directory."""

    def __init__(self, socket_dir: Path):
        self.dir = socket_dir

    def query(self, sql, params=None, dbname="postgres"):
        conn = psycopg2.connect(host=str(self.dir), port=5432, user="postgres", dbname=dbname)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else None
        finally:
            conn.close()

    def scalar(self, sql, params=None, dbname="postgres"):
        return self.query(sql, params, dbname)[0][0]

    def has_worker(self, source, dbname):
        return self.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                           (f"pg_ingest: {source}",), dbname) == 1

    def wait_idle(self, source, dbname):
        assert self.scalar("SELECT ingest.wait_idle(%s, '120s')", (source,), dbname) is True


class NewServer(Server):
    """The new major's server inside the chroot, driven through the control script's stdin."""

    def __init__(self, shared: Path):
        super().__init__(shared / f"pg{NEW_MAJOR}")
        command = NEW_SERVER_SCRIPT.format(major=NEW_MAJOR, cluster=CLUSTER, dir=self.dir)
        self.process = subprocess.Popen(
            ["bash", str(CHROOT), "run", NEW_SUITE, "--bind", str(shared), "--bind", str(ROOT),
             "--", "bash", "-c", command],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.expect_started()

    def expect_started(self):
        line = self.process.stdout.readline()
        assert line == "started\n", f"the PostgreSQL {NEW_MAJOR} server did not start: {line!r}"

    def restart(self):
        self.process.stdin.write("restart\n")
        self.process.stdin.flush()
        self.expect_started()

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
        assert self.process.wait(timeout=120) == 0


@pytest.fixture
def shared():
    """A directory both servers see at the same path; the chroot's postgres can enter it."""
    path = Path(tempfile.mkdtemp(prefix="pg_ingest_cross_"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def old_server(shared):
    base = Path(tempfile.mkdtemp(prefix="pg_ingest_cross15_"))
    base.chmod(0o755)
    subprocess.run([CLUSTER, "init", str(base / "pg")], check=True)
    subprocess.run([CLUSTER, "start", str(base / "pg")], check=True)
    yield Server(base / "pg")
    subprocess.run([CLUSTER, "destroy", str(base / "pg")], check=False)
    shutil.rmtree(base, ignore_errors=True)


def write_csv(directory: Path, name: str, lines):
    tmp = directory / f".{name}.tmp"
    tmp.write_text("id,payload\n" + "".join(line + "\n" for line in lines))
    os.rename(tmp, directory / name)


MAJOR = "SELECT current_setting('server_version_num')::int / 10000"
SOURCES = "SELECT name, directory, target::text, pattern, batch_size, enabled FROM ingest.sources " \
          "ORDER BY name"
FILES = "SELECT source, file_name, file_size, file_mtime, file_inode, status, byte_offset, " \
        "line_number, rows_loaded, rows_rejected FROM ingest.files ORDER BY file_id"
REJECTS = "SELECT source, file_name, line_number, byte_offset, raw_line, error, sqlstate " \
          "FROM ingest.rejects ORDER BY reject_id"


def test_dump_on_15_restores_on_the_newer_major_and_resumes_without_reloading(shared, old_server):
    data = shared / "data"
    data.mkdir()
    shutil.chown(data, "postgres", "postgres")
    data.chmod(0o755)
    assert old_server.scalar(MAJOR) == 15

    old_server.query("CREATE DATABASE shop")
    old_server.query("CREATE EXTENSION pg_ingest", dbname="shop")
    old_server.query("CREATE TABLE t (id bigint PRIMARY KEY, payload text)", dbname="shop")
    old_server.query("CREATE TABLE parked (id bigint)", dbname="shop")
    old_server.query("SELECT ingest.create_source('kept', %s, 't', batch_size => 7)",
                     (str(data),), "shop")
    # A stopped source of its own files (one file, one source: not kept's *.csv).
    old_server.query("SELECT ingest.create_source('paused', %s, 'parked', '*.tsv')", (str(data),),
                     "shop")
    old_server.query("SELECT ingest.start('kept')", dbname="shop")
    write_csv(data, "one.csv", [f"{i},x" for i in range(50)] + ["not a number,y", "1,2,3"] +
              [f"{i},x" for i in range(50, 100)])
    old_server.wait_idle("kept", "shop")
    assert old_server.query("SELECT file_name, status, rows_loaded, rows_rejected "
                            "FROM ingest.files", dbname="shop") == [("one.csv", "done", 100, 2)]
    assert old_server.query("SELECT line_number FROM ingest.rejects ORDER BY line_number",
                            dbname="shop") == [(52,), (53,)]
    catalog = [old_server.query(sql, dbname="shop") for sql in (SOURCES, FILES, REJECTS)]

    # The 15 server's own pg_dump, with the source still started; then 15 goes away, as a server
    # replaced by a newer major does.
    dump = subprocess.run([f"{PGBIN}/pg_dump", "-h", str(old_server.dir), "-U", "postgres",
                           "shop"], check=True, capture_output=True, text=True).stdout
    subprocess.run([CLUSTER, "stop", str(old_server.dir)], check=True)

    new_server = NewServer(shared)
    try:
        assert new_server.scalar(MAJOR) == NEW_MAJOR
        assert new_server.scalar(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_ingest'") == 1, \
            f"pg_ingest is not installed in the {NEW_SUITE} chroot: run " \
            f"PG_MAJORS=\"15 {NEW_MAJOR}\" scripts/test.sh, whose {NEW_MAJOR} run installs it"
        new_server.query("CREATE DATABASE shop")
        restore = subprocess.run([f"{PGBIN}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h",
                                  str(new_server.dir), "-U", "postgres", "shop"], input=dump,
                                 capture_output=True, text=True)
        assert restore.returncode == 0, restore.stderr
        assert [new_server.query(sql, dbname="shop") for sql in (SOURCES, FILES, REJECTS)] == \
            catalog
        assert new_server.query("SELECT count(*), count(DISTINCT id) FROM t", dbname="shop") == \
            [(100, 100)]

        # A server start finds the started source, as after an upgrade; the done file stays done.
        new_server.restart()
        wait_until(lambda: new_server.has_worker("kept", "shop"), 60, f"the worker of kept on {NEW_MAJOR}")
        assert not new_server.has_worker("paused", "shop")
        new_server.wait_idle("kept", "shop")
        write_csv(data, "two.csv", [f"{i},z" for i in range(100, 130)])
        new_server.wait_idle("kept", "shop")
        assert new_server.query("SELECT file_name, status, rows_loaded, rows_rejected "
                                "FROM ingest.files ORDER BY file_id", dbname="shop") == \
            [("one.csv", "done", 100, 2), ("two.csv", "done", 30, 0)]
        assert new_server.query(FILES, dbname="shop")[0] == catalog[1][0]
        assert new_server.query(REJECTS, dbname="shop") == catalog[2]
        assert new_server.query("SELECT count(*), count(DISTINCT id) FROM t", dbname="shop") == \
            [(130, 130)]
        status = "SELECT source, state FROM ingest.status ORDER BY source"
        wait_until(lambda: new_server.query(status, dbname="shop")[0] == ("kept", "idle"), 30,
                   f"kept to show idle on {NEW_MAJOR}")
        assert new_server.query(status, dbname="shop") == [("kept", "idle"), ("paused", "stopped")]
    finally:
        new_server.close()
