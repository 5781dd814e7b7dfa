"""Database maintenance while a source is started and loading: ALTER DATABASE ... RENAME, CREATE
DATABASE ... TEMPLATE and ALTER DATABASE ... SET TABLESPACE need the database without other
sessions. The workers step aside for the statement and come back after it; every row lands
exactly once, through a kill -9 and an immediate stop afterwards."""
import shutil

import pytest

from conftest import postgres_dir, wait_idle, wait_until, write_csv_atomically

ROWS = 300_000
# The statement, and the database's name after it.
STATEMENTS = {
    "rename": ("ALTER DATABASE maintained RENAME TO renamed", "renamed"),
    "template": ("CREATE DATABASE copied TEMPLATE maintained", "maintained"),
    "tablespace": ("ALTER DATABASE maintained SET TABLESPACE moved", "maintained"),
}


def numbered_lines(first, count):
    return (f"{i},note {i}" for i in range(first, first + count))


def loaded_rows(cluster, dbname):
    return cluster.scalar("SELECT count(*) FROM loaded", dbname=dbname)


@pytest.fixture
def tablespace(cluster):
    location = postgres_dir("pg_ingest_space_")
    cluster.query(f"CREATE TABLESPACE moved LOCATION '{location}'")
    yield
    for database in ("maintained", "renamed", "copied"):
        cluster.query(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    cluster.query("DROP TABLESPACE moved")
    shutil.rmtree(location, ignore_errors=True)


@pytest.mark.parametrize("statement", sorted(STATEMENTS))
def test_maintenance_statement_succeeds_mid_load_and_the_source_resumes_exactly_once(
        cluster, data_dir, tablespace, statement):
    sql, dbname = STATEMENTS[statement]
    cluster.query("CREATE DATABASE maintained")
    cluster.query("CREATE EXTENSION pg_ingest", dbname="maintained")
    cluster.query("CREATE TABLE loaded (id bigint PRIMARY KEY, note text)", dbname="maintained")
    cluster.query("SELECT ingest.create_source('feed', %s, 'loaded', batch_size => 1000)",
                  (str(data_dir),), "maintained")
    cluster.query("SELECT ingest.start('feed')", dbname="maintained")
    write_csv_atomically(data_dir, "a.csv", "id,note", numbered_lines(0, ROWS))
    wait_until(lambda: loaded_rows(cluster, "maintained") > 0, 60, "the load to begin")
    pid = cluster.worker_pid("feed", "maintained")

    cluster.query(sql)
    if statement == "template":
        # The copy is another database with the same started source: stopped here, so that
        # only the original loads the directory in this test.
        cluster.query("SELECT ingest.stop('feed')", dbname="copied")
    assert loaded_rows(cluster, dbname) < ROWS
    cluster.wait_for_workers("feed", 1, dbname, gone=[pid])

    write_csv_atomically(data_dir, "b.csv", "id,note", numbered_lines(ROWS, ROWS))
    wait_until(lambda: loaded_rows(cluster, dbname) > ROWS, 60, "the second file to load")
    cluster.kill_workers("feed", dbname=dbname)
    cluster.stop("immediate")
    cluster.start()
    wait_idle(cluster, "feed", dbname=dbname)
    assert cluster.query("SELECT count(*), count(DISTINCT id), min(id), max(id) FROM loaded",
                         dbname=dbname) == [(2 * ROWS, 2 * ROWS, 0, 2 * ROWS - 1)]
    assert cluster.query("SELECT file_name, status, rows_loaded FROM ingest.files "
                         "ORDER BY file_name", dbname=dbname) == [
        ("a.csv", "done", ROWS), ("b.csv", "done", ROWS)]
    if statement == "tablespace":
        assert cluster.scalar("SELECT t.spcname FROM pg_database d JOIN pg_tablespace t "
                              "ON t.oid = d.dattablespace WHERE d.datname = 'maintained'") == "moved"
    cluster.query("SELECT ingest.stop('feed')", dbname=dbname)
