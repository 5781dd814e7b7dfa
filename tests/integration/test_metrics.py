"""ingest.metrics: counters per source since the server started, equal to what ingest.files says
about the same loads; visible to the source's owner and superusers only; reset by a restart; and
the postgres_exporter queries shipped in docker/ scrape them as declared."""
import decimal
import os
import shutil
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest
import yaml

from conftest import ROOT, Cluster, as_role, postgres_dir, wait_idle, wait_until, write_csv_atomically

QUERIES = ROOT / "docker" / "postgres_exporter" / "queries.yaml"
COUNTERS = ("files_done", "files_failed", "rows_loaded", "rows_rejected", "bytes_read", "batches",
            "errors", "batches_direct_copy", "batches_spi_copy")


def metrics(cluster, source):
    rows = cluster.query("SELECT * FROM ingest.metrics WHERE source = %s", (source,))
    assert len(rows) == 1
    conn = cluster.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT * FROM ingest.metrics LIMIT 0")
            names = [column.name for column in cur.description]
    finally:
        conn.close()
    return dict(zip(names, rows[0]))


def poll_metrics(cluster, source, files, timeout=30):
    """The counters move just after the commit that ingest.files shows: wait for the last file."""
    def settled():
        current = metrics(cluster, source)
        return current if current["files_done"] + current["files_failed"] >= files else None
    return wait_until(settled, timeout, f"the metrics of {files} file(s) of {source}")


def test_counters_equal_what_the_file_catalog_says(cluster, data_dir):
    cluster.query("CREATE TABLE counted (id bigint PRIMARY KEY, amount integer NOT NULL)")
    cluster.query("SELECT ingest.create_source('counted', %s, 'counted', batch_size => 4, "
                  "options => '{\"max_rejects_per_file\": 3}')", (str(data_dir),))
    assert metrics(cluster, "counted") == {
        "source": "counted", **{name: 0 for name in COUNTERS}, "busy_seconds": 0.0,
        "last_file_at": None}

    # 10 good rows: batches of 4, 4, 2.
    write_csv_atomically(data_dir, "f1.csv", "id,amount", [f"{i},{i}" for i in range(10)])
    # 9 lines, a type error and a wrong field count among them: 7 rows, 2 rejects, 3 batches.
    f2 = [f"{i},{i}" for i in range(100, 109)]
    f2[2] = "102,not a number"
    f2[6] = "106"
    write_csv_atomically(data_dir, "f2.csv", "id,amount", f2)
    # A column the table does not have: fails before its first batch.
    write_csv_atomically(data_dir, "f3.csv", "id,amount,colour", ["1,1,red"])
    # The second batch has 4 bad lines, past max_rejects_per_file: only the first batch stays.
    write_csv_atomically(data_dir, "f4.csv", "id,amount",
                         [f"{i},{i}" for i in range(200, 204)] + ["x,1"] * 4 + ["300,3"])
    # Header only: done, no batch.
    write_csv_atomically(data_dir, "f5.csv", "id,amount", [])
    started = time.time()
    cluster.query("SELECT ingest.start('counted')")
    wait_idle(cluster, "counted")
    counters = poll_metrics(cluster, "counted", files=5)
    elapsed = time.time() - started

    files = cluster.query(
        "SELECT file_name, status, rows_loaded, rows_rejected, byte_offset FROM ingest.files "
        "WHERE source = 'counted' ORDER BY file_name")
    f1_size = os.path.getsize(data_dir / "f1.csv")
    f2_size = os.path.getsize(data_dir / "f2.csv")
    f4_first_batch = len("id,amount\n") + sum(len(f"{i},{i}\n") for i in range(200, 204))
    assert files == [("f1.csv", "done", 10, 0, f1_size), ("f2.csv", "done", 7, 2, f2_size),
                     ("f3.csv", "failed", 0, 0, 0), ("f4.csv", "failed", 4, 0, f4_first_batch),
                     ("f5.csv", "done", 0, 0, 0)]
    assert {name: counters[name] for name in COUNTERS} == {
        "files_done": 3, "files_failed": 2, "rows_loaded": 21, "rows_rejected": 2,
        "bytes_read": f1_size + f2_size + f4_first_batch, "batches": 7,
        # Each failed file is an error; nothing else went wrong.
        "errors": 2,
        # No ProcessUtility hook but pg_ingest's: COPY is fed directly. f1's three batches,
        # f2's last (its first two hold a bad row: row by row), f4's first.
        "batches_direct_copy": 5, "batches_spi_copy": 0}
    batch_count = sum(-(-(loaded + rejected) // 4) for _, _, loaded, rejected, _ in files)
    assert counters["batches"] == batch_count
    assert counters["bytes_read"] == sum(f[4] for f in files)
    assert 0 < counters["busy_seconds"] < elapsed
    last_done, now = cluster.query("SELECT max(finished_at), now() FROM ingest.files "
                                   "WHERE source = 'counted' AND status = 'done'")[0]
    assert last_done <= counters["last_file_at"] <= now

    # The counters are the server's since its start: a restart resets them, the history stays.
    cluster.stop()
    cluster.start()
    cluster.worker_pid("counted")
    assert metrics(cluster, "counted") == {
        "source": "counted", **{name: 0 for name in COUNTERS}, "busy_seconds": 0.0,
        "last_file_at": None}
    assert cluster.scalar("SELECT count(*) FROM ingest.files WHERE source = 'counted'") == 5
    write_csv_atomically(data_dir, "f6.csv", "id,amount", ["400,4"])
    wait_idle(cluster, "counted")
    counters = poll_metrics(cluster, "counted", files=1)
    assert {name: counters[name] for name in COUNTERS} == {
        "files_done": 1, "files_failed": 0, "rows_loaded": 1, "rows_rejected": 0,
        "bytes_read": os.path.getsize(data_dir / "f6.csv"), "batches": 1, "errors": 0,
        "batches_direct_copy": 1, "batches_spi_copy": 0}
    cluster.query("SELECT ingest.drop_source('counted')")
    cluster.query("DROP TABLE counted")


def test_a_role_sees_the_metrics_of_its_own_sources_only(cluster, data_dir):
    cluster.query("CREATE ROLE metrics_alice IN ROLE pg_read_server_files")
    cluster.query("CREATE ROLE metrics_bob")
    try:
        cluster.query("CREATE TABLE alice_t (id int)")
        cluster.query("GRANT INSERT ON alice_t TO metrics_alice")
        as_role(cluster, "metrics_alice",
                f"SELECT ingest.create_source('alice_src', '{data_dir}', 'alice_t')")
        cluster.query("CREATE TABLE admin_t (id int)")
        cluster.query("SELECT ingest.create_source('admin_src', %s, 'admin_t', '*.txt')",
                      (str(data_dir),))

        assert as_role(cluster, "metrics_alice", "SELECT source FROM ingest.metrics") == \
            [("alice_src",)]
        assert as_role(cluster, "metrics_bob", "SELECT source FROM ingest.metrics") == []
        assert cluster.query("SELECT source FROM ingest.metrics "
                             "WHERE source IN ('alice_src', 'admin_src') ORDER BY source") == \
            [("admin_src",), ("alice_src",)]
        with pytest.raises(psycopg2.Error) as error:
            as_role(cluster, "metrics_bob", "SELECT * FROM ingest._source_metrics()")
        assert error.value.pgerror.splitlines()[0] == \
            "ERROR:  permission denied for function _source_metrics"
    finally:
        cluster.query("SELECT ingest.drop_source(name) FROM ingest.sources "
                      "WHERE name IN ('alice_src', 'admin_src')")
        cluster.query("DROP TABLE IF EXISTS alice_t, admin_t")
        cluster.query("DROP ROLE metrics_alice")
        cluster.query("DROP ROLE metrics_bob")


def test_postgres_exporter_queries_return_the_declared_metrics(cluster, data_dir):
    namespaces = yaml.safe_load(QUERIES.read_text())
    assert set(namespaces) == {"pg_ingest", "pg_ingest_status"}
    cluster.query("CREATE TABLE scraped (id int)")
    cluster.query("SELECT ingest.create_source('scraped', %s, 'scraped')", (str(data_dir),))
    cluster.query("SELECT ingest.start('scraped')")
    write_csv_atomically(data_dir, "s.csv", "id", ["1", "2"])
    wait_idle(cluster, "scraped")
    poll_metrics(cluster, "scraped", files=1)
    try:
        for namespace, spec in namespaces.items():
            assert set(spec) <= {"query", "metrics", "master", "cache_seconds"}, namespace
            declared = []
            for metric in spec["metrics"]:
                assert len(metric) == 1, metric
                (name, definition), = metric.items()
                assert definition["usage"] in ("LABEL", "COUNTER", "GAUGE"), name
                assert definition["description"], name
                declared.append((name, definition["usage"]))

            conn = cluster.connect()
            try:
                with conn.cursor() as cur:
                    cur.execute(spec["query"])
                    columns = [column.name for column in cur.description]
                    rows = cur.fetchall()
            finally:
                conn.close()
            assert columns == [name for name, _ in declared], namespace
            scraped = [dict(zip(columns, row)) for row in rows if row[0] == "scraped"]
            assert len(scraped) == 1, namespace
            for name, usage in declared:
                value = scraped[0][name]
                if usage == "LABEL":
                    assert isinstance(value, str), (namespace, name)
                else:
                    assert isinstance(value, (int, float, decimal.Decimal)) and \
                        not isinstance(value, bool), (namespace, name, value)
        scraped = cluster.query("SELECT rows_loaded, files_done, last_file_timestamp_seconds > 0 "
                                "FROM (" + namespaces["pg_ingest"]["query"] + ") q "
                                "WHERE source = 'scraped'")
        assert scraped == [(2, 1, True)]
        assert cluster.query("SELECT worker_up, failed, files_pending FROM (" +
                             namespaces["pg_ingest_status"]["query"] + ") q "
                             "WHERE source = 'scraped'") == [(1, 0, 0)]
    finally:
        cluster.query("SELECT ingest.drop_source('scraped')")
        cluster.query("DROP TABLE scraped")


def load_one_file(cluster, source, directory, name, dbname="postgres"):
    cluster.query(f"CREATE TABLE IF NOT EXISTS {source}_t (id int)", dbname=dbname)
    cluster.query("SELECT ingest.create_source(%s, %s, %s)",
                  (source, str(directory), f"{source}_t"), dbname)
    cluster.query("SELECT ingest.start(%s)", (source,), dbname)
    write_csv_atomically(directory, name, "id", ["1"])
    wait_idle(cluster, source, dbname=dbname)
    wait_until(lambda: cluster.scalar("SELECT files_done FROM ingest.metrics WHERE source = %s",
                                      (source,), dbname) == 1, 30, f"{source}: files_done = 1")


def test_a_recreated_extension_starts_from_zero(cluster, data_dir):
    cluster.query("CREATE DATABASE remade")
    try:
        cluster.query("CREATE EXTENSION pg_ingest", dbname="remade")
        load_one_file(cluster, "first", data_dir, "a.csv", "remade")
        cluster.query("DROP EXTENSION pg_ingest", dbname="remade")
        cluster.query("CREATE EXTENSION pg_ingest", dbname="remade")
        # The new source gets the same source_id; none of the old counters show up.
        cluster.query("SELECT ingest.create_source('second', %s, 'first_t')", (str(data_dir),),
                      "remade")
        assert cluster.query("SELECT source_id, source, files_done, rows_loaded, last_file_at "
                             "FROM ingest.sources JOIN ingest.metrics ON source = name",
                             dbname="remade") == [(1, "second", 0, 0, None)]
    finally:
        cluster.query("DROP DATABASE remade WITH (FORCE)")


def test_stopped_sources_keep_counters_until_their_room_is_needed():
    base = Path(tempfile.mkdtemp(prefix="pg_ingest_metrics_room_"))
    base.chmod(0o755)
    small = Cluster(base / "pg", ["pg_ingest.max_sources = 1"])
    directories = [postgres_dir("pg_ingest_metrics_room_") for _ in range(3)]
    try:
        small.query("CREATE EXTENSION pg_ingest")
        # Room for two: s1 and s2 run one after the other and keep their counters once stopped.
        for number in (1, 2):
            load_one_file(small, f"s{number}", directories[number - 1], "a.csv")
            small.query("SELECT ingest.stop(%s)", (f"s{number}",))
        assert small.query("SELECT source, files_done FROM ingest.metrics ORDER BY source") == \
            [("s1", 1), ("s2", 1)]
        # The third takes the room of the one idle longest.
        load_one_file(small, "s3", directories[2], "a.csv")
        assert small.query("SELECT source, files_done FROM ingest.metrics ORDER BY source") == \
            [("s1", 0), ("s2", 1), ("s3", 1)]
    finally:
        small.destroy()
        for directory in [base, *directories]:
            shutil.rmtree(directory, ignore_errors=True)
