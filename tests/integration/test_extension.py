"""Extension life cycle outside the worker: preload requirement, pg_dump of the catalog."""
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg2
import pytest

from conftest import PGBIN, Cluster, write_csv_atomically, wait_idle



def test_start_without_preload_says_how_to_fix_it():
    base = Path(tempfile.mkdtemp(prefix="pg_ingest_nopreload_"))
    base.chmod(0o755)
    cluster = Cluster(base / "pg", ["shared_preload_libraries = ''"])
    try:
        cluster.query("CREATE EXTENSION pg_ingest")
        cluster.query("CREATE TABLE t (id int)")
        cluster.query("SELECT ingest.create_source('s', '/tmp', 't')")
        with pytest.raises(psycopg2.Error) as error:
            cluster.query("SELECT ingest.start('s')")
        assert error.value.pgerror.splitlines()[0] == \
            "ERROR:  pg_ingest is not loaded through shared_preload_libraries"
        assert error.value.diag.message_hint == \
            "Add pg_ingest to shared_preload_libraries in postgresql.conf and restart the server."
        assert cluster.scalar("SELECT enabled FROM ingest.sources WHERE name = 's'") is False
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)


def test_pg_dump_keeps_sources_and_file_history(cluster, data_dir):
    cluster.query("CREATE DATABASE dumped")
    cluster.query("CREATE EXTENSION pg_ingest", dbname="dumped")
    cluster.query("CREATE TABLE t (id bigint PRIMARY KEY, payload text)", dbname="dumped")
    cluster.query("SELECT ingest.create_source('kept', %s, 't', batch_size => 7)", (str(data_dir),),
                  "dumped")
    cluster.query("SELECT ingest.start('kept')", dbname="dumped")
    write_csv_atomically(data_dir, "one.csv", "id,payload", [f"{i},x" for i in range(100)])
    wait_idle(cluster, "kept", dbname="dumped")
    cluster.query("SELECT ingest.stop('kept')", dbname="dumped")

    dump = subprocess.run([f"{PGBIN}/pg_dump", "-h", str(cluster.dir), "-U", "postgres", "dumped"],
                          check=True, capture_output=True, text=True).stdout
    cluster.query("CREATE DATABASE restored")
    subprocess.run([f"{PGBIN}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(cluster.dir),
                    "-U", "postgres", "restored"], input=dump, check=True, capture_output=True,
                   text=True)
    assert cluster.query("SELECT name, batch_size, target::text FROM ingest.sources",
                         dbname="restored") == [("kept", 7, "t")]
    assert cluster.query("SELECT file_name, status, rows_loaded FROM ingest.files",
                         dbname="restored") == [("one.csv", "done", 100)]
    assert cluster.scalar("SELECT count(*) FROM t", dbname="restored") == 100
    cluster.query("DROP DATABASE restored")
    cluster.query("DROP DATABASE dumped")
