"""The two ways a plain span reaches COPY: direct (BeginCopyFrom fed from the data file, where no
ProcessUtility hook but pg_ingest's own is installed) and a COPY statement through SPI (where
another hook is, so that it sees the COPY: here pg_stat_statements, loaded before and after
pg_ingest). Each path loads a big file exactly once through kill -9s and an immediate restart,
says which path ran in ingest.metrics and in its DEBUG1 line, and keeps COPY's privilege rules."""
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import Cluster, as_role, postgres_dir, wait_idle, wait_until, write_csv_atomically

ROWS = 1_000_000

# (preload line, the path COPY takes)
SETUPS = {
    "no other hook": ([], "direct"),
    "pg_stat_statements after pg_ingest": (
        ["shared_preload_libraries = 'pg_ingest, pg_stat_statements'",
         "pg_stat_statements.track = all"], "spi"),
    "pg_stat_statements before pg_ingest": (
        ["shared_preload_libraries = 'pg_stat_statements, pg_ingest'",
         "pg_stat_statements.track = all"], "spi"),
}


@pytest.fixture(scope="module", params=list(SETUPS))
def setup(request):
    conf, path = SETUPS[request.param]
    base = Path(tempfile.mkdtemp(prefix="pg_ingest_paths_"))
    base.chmod(0o755)
    cluster = Cluster(base / "pg", conf)
    cluster.query("CREATE EXTENSION pg_ingest")
    if path == "spi":
        cluster.query("CREATE EXTENSION pg_stat_statements")
    yield cluster, path
    cluster.destroy()
    shutil.rmtree(base, ignore_errors=True)


def path_counters(cluster, source):
    return cluster.query("SELECT batches_direct_copy, batches_spi_copy FROM ingest.metrics "
                         "WHERE source = %s", (source,))[0]


def copies_hooks_saw(cluster):
    return cluster.scalar("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
                          "WHERE query LIKE 'COPY %%'")


def loaded_rows(cluster, name):
    """The file's committed rows; 0 before it is registered."""
    return cluster.scalar("SELECT coalesce(sum(rows_loaded), 0) FROM ingest.files "
                          "WHERE file_name = %s", (name,))


def test_a_big_file_loads_exactly_once_through_kill_9_on_either_path(setup):
    cluster, path = setup
    directory = postgres_dir("pg_ingest_paths_data_")
    try:
        cluster.query("CREATE TABLE big (id bigint PRIMARY KEY, note text)")
        cluster.query("SELECT ingest.create_source('big', %s, 'big', batch_size => 2000)",
                      (str(directory),))
        if path == "spi":
            cluster.query("SELECT pg_stat_statements_reset()")
        write_csv_atomically(directory, "big.csv", "id,note",
                             (f"{i},row {i}" for i in range(ROWS)))
        cluster.query("SELECT ingest.start('big')")
        cluster.worker_pid("big")
        # kill -9 three times and stop immediately once, each time further into the file.
        for share in (0.1, 0.3, 0.5):
            wait_until(lambda: loaded_rows(cluster, "big.csv") >= share * ROWS, 120,
                       f"{share:.0%} of big.csv loaded", interval=0.005)
            assert cluster.scalar("SELECT status FROM ingest.files WHERE file_name = 'big.csv'") \
                == "loading"
            cluster.kill_workers("big")
        wait_until(lambda: loaded_rows(cluster, "big.csv") >= 0.7 * ROWS, 120,
                   "70% of big.csv loaded", interval=0.005)
        cluster.stop("immediate")
        cluster.start()
        cluster.worker_pid("big", timeout=60)
        wait_idle(cluster, "big")
        assert cluster.query("SELECT status, rows_loaded, rows_rejected FROM ingest.files "
                             "WHERE source = 'big'") == [("done", ROWS, 0)]
        assert cluster.query("SELECT count(*), count(DISTINCT id), min(id), max(id) FROM big") == \
            [(ROWS, ROWS, 0, ROWS - 1)]
        # The counters since the last start: only this path's batches.
        direct, spi = path_counters(cluster, "big")
        if path == "direct":
            assert direct > 0 and spi == 0
        else:
            assert direct == 0 and spi > 0
            # The hook saw the worker's COPY statements. (pg_stat_statements counts the COPY
            # of the worker's kept plan once per worker here, not once per execution.)
            assert copies_hooks_saw(cluster) >= 1
    finally:
        cluster.query("SELECT ingest.drop_source('big')")
        cluster.query("DROP TABLE IF EXISTS big")
        shutil.rmtree(directory, ignore_errors=True)


def test_the_debug_line_and_the_metrics_name_the_path(setup, data_dir):
    cluster, path = setup
    cluster.query("CREATE TABLE named (id bigint PRIMARY KEY, note text)")
    try:
        cluster.query("ALTER SYSTEM SET log_min_messages = debug1")
        cluster.query("SELECT pg_reload_conf()")
        cluster.query("SELECT ingest.create_source('named', %s, 'named', batch_size => 3)",
                      (str(data_dir),))
        cluster.query("SELECT ingest.start('named')")
        cluster.worker_pid("named")
        offset = cluster.log_size()
        write_csv_atomically(data_dir, "n.csv", "id,note", [f"{i},n" for i in range(7)])
        wait_idle(cluster, "named")
        shown = {"direct": "direct COPY", "spi": "COPY through SPI"}[path]
        wait_until(lambda: 'file "n.csv": copied lines 8 to 8, 1 rows, offset' in
                   cluster.log(since=offset), 30, "the last batch's DEBUG1 line")
        copied = [line for line in cluster.log(since=offset).splitlines()
                  if 'file "n.csv": copied lines' in line]
        assert [line.split("copied ")[1] for line in copied] == [
            f"lines 2 to 4, 3 rows, offset {len('id,note') + 1 + 12}, by {shown}",
            f"lines 5 to 7, 3 rows, offset {len('id,note') + 1 + 24}, by {shown}",
            f"lines 8 to 8, 1 rows, offset {len('id,note') + 1 + 28}, by {shown}"]
        assert path_counters(cluster, "named") == ((3, 0) if path == "direct" else (0, 3))
    finally:
        cluster.query("ALTER SYSTEM RESET log_min_messages")
        cluster.query("SELECT pg_reload_conf()")
        cluster.query("SELECT ingest.drop_source('named')")
        cluster.query("DROP TABLE named")


def test_copy_runs_as_the_owner_and_refuses_row_level_security(setup, data_dir):
    """Either path: COPY's rows are inserted as the source's owner (a trigger sees that role),
    and row-level security keeps COPY out as it does the owner's own COPY FROM: the rows go one
    by one, through the policy, and those it refuses are rejected."""
    cluster, path = setup
    cluster.query("CREATE ROLE paths_owner IN ROLE pg_read_server_files")
    try:
        cluster.query("CREATE TABLE owned (id bigint, note text, inserted_by text)")
        cluster.query("CREATE FUNCTION owned_by() RETURNS trigger LANGUAGE plpgsql AS "
                      "$$BEGIN NEW.inserted_by := current_user; RETURN NEW; END$$")
        cluster.query("CREATE TRIGGER owned_by BEFORE INSERT ON owned "
                      "FOR EACH ROW EXECUTE FUNCTION owned_by()")
        cluster.query("CREATE TABLE policed (id bigint, note text)")
        cluster.query("GRANT INSERT ON owned, policed TO paths_owner")
        cluster.query("ALTER TABLE policed ENABLE ROW LEVEL SECURITY")
        cluster.query("CREATE POLICY even ON policed FOR INSERT TO paths_owner "
                      "WITH CHECK (id % 2 = 0)")
        owned_dir = data_dir / "owned"
        policed_dir = data_dir / "policed"
        for d in (owned_dir, policed_dir):
            d.mkdir()
            shutil.chown(d, "postgres", "postgres")
        as_role(cluster, "paths_owner",
                f"SELECT ingest.create_source('owned_src', '{owned_dir}', 'owned')")
        as_role(cluster, "paths_owner",
                f"SELECT ingest.create_source('policed_src', '{policed_dir}', 'policed')")
        cluster.query("SELECT ingest.start(NULL)")
        write_csv_atomically(owned_dir, "o.csv", "id,note", ["1,a", "2,b"])
        write_csv_atomically(policed_dir, "p.csv", "id,note", ["1,a", "2,b", "3,c", "4,d"])
        wait_idle(cluster, "owned_src")
        wait_idle(cluster, "policed_src")
        assert cluster.query("SELECT id, inserted_by FROM owned ORDER BY id") == [
            (1, "paths_owner"), (2, "paths_owner")]
        assert cluster.query("SELECT id FROM policed ORDER BY id") == [(2,), (4,)]
        assert cluster.query(
            "SELECT line_number, error FROM ingest.rejects WHERE source = 'policed_src' "
            "ORDER BY line_number") == [
            (2, 'new row violates row-level security policy for table "policed"'),
            (4, 'new row violates row-level security policy for table "policed"')]
        # o.csv by COPY; p.csv row by row, never by COPY.
        assert path_counters(cluster, "owned_src") == ((1, 0) if path == "direct" else (0, 1))
        assert path_counters(cluster, "policed_src") == (0, 0)
    finally:
        cluster.query("SELECT ingest.drop_source(name) FROM ingest.sources "
                      "WHERE name IN ('owned_src', 'policed_src')")
        cluster.query("DROP TABLE IF EXISTS owned, policed")
        cluster.query("DROP FUNCTION IF EXISTS owned_by()")
        cluster.query("DROP ROLE paths_owner")


def test_spans_end_where_the_scan_of_copys_buffer_ends(setup, data_dir):
    """Direct COPY streams each span: the scanner finds where the span ends in COPY's own 64 kB
    buffers as COPY reads them (spans of 700 rows end inside a buffer), across quoted newlines.
    Either path commits the same spans at the same offsets and lines, and the span holding a bad
    row goes row by row with the row's true line number."""
    cluster, path = setup
    rows, batch, bad = 5000, 700, 2500
    lines, starts, at, line = [], [], len("id,note") + 1, 2
    for i in range(rows):
        note = f'"line a of {i}\nline b, ""q"""' if i % 7 == 3 else f"note {i}"
        text = f"{i}" if i == bad else f"{i},{note}"  # the bad row has one field
        lines.append(text)
        starts.append((at, line))
        at += len(text.encode()) + 1
        line += text.count("\n") + 1
    ends = starts[1:] + [(at, line)]
    shown = {"direct": "direct COPY", "spi": "COPY through SPI"}[path]
    expected = []
    for first in range(0, rows, batch):
        last = min(first + batch, rows) - 1
        if first <= bad <= last:
            continue  # row by row
        end_offset, next_line = ends[last]
        expected.append(f"lines {starts[first][1]} to {next_line - 1}, {last - first + 1} rows, "
                        f"offset {end_offset}, by {shown}")
    cluster.query("CREATE TABLE fenced (id bigint PRIMARY KEY, note text)")
    try:
        cluster.query("ALTER SYSTEM SET log_min_messages = debug1")
        cluster.query("SELECT pg_reload_conf()")
        cluster.query("SELECT ingest.create_source('fenced', %s, 'fenced', batch_size => %s)",
                      (str(data_dir), batch))
        cluster.query("SELECT ingest.start('fenced')")
        cluster.worker_pid("fenced")
        offset = cluster.log_size()
        write_csv_atomically(data_dir, "f.csv", "id,note", lines)
        wait_idle(cluster, "fenced")
        last_line = f"copied lines {expected[-1].split()[1]} to"
        wait_until(lambda: last_line in cluster.log(since=offset), 30, "the last DEBUG1 line")
        copied = [entry.split("copied ")[1] for entry in cluster.log(since=offset).splitlines()
                  if 'file "f.csv": copied lines' in entry]
        assert copied == expected
        assert cluster.query("SELECT status, rows_loaded, rows_rejected, byte_offset FROM "
                             "ingest.files WHERE source = 'fenced'") == [("done", rows - 1, 1, at)]
        assert cluster.query("SELECT line_number, error FROM ingest.rejects "
                             "WHERE source = 'fenced'") == [
            (starts[bad][1], "expected 2 fields, found 1")]
        assert cluster.query("SELECT count(*), count(DISTINCT id), "
                             "count(*) FILTER (WHERE note LIKE E'line a of %\\nline b, \"q\"') "
                             "FROM fenced") == [(rows - 1, rows - 1, len(range(3, rows, 7)))]
    finally:
        cluster.query("ALTER SYSTEM RESET log_min_messages")
        cluster.query("SELECT pg_reload_conf()")
        cluster.query("SELECT ingest.drop_source('fenced')")
        cluster.query("DROP TABLE fenced")


def test_a_lone_carriage_return_file_loads_as_copy_loads_it_on_either_path(setup, data_dir):
    """A file whose lines end with a lone "\\r" (quoted line breaks of every kind inside): its
    spans reach COPY on this setup's path and load row for row as COPY FROM the file loads it."""
    cluster, path = setup
    notes = ['plain', '"line\nbreak"', '"carriage\rreturn"', '"both\r\nkinds"', '', '""']
    text = "\r".join(["id,note"] + [f"{i},{notes[i % len(notes)]}" for i in range(50)]) + "\r"
    file = data_dir / "cr.csv"
    file.write_bytes(text.encode())
    cluster.query("CREATE TABLE cr (id bigint PRIMARY KEY, note text)")
    cluster.query("CREATE TABLE cr_copy (LIKE cr)")
    try:
        cluster.query("SELECT ingest.create_source('cr', %s, 'cr', batch_size => 8)",
                      (str(data_dir),))
        cluster.query("SELECT ingest.start('cr')")
        wait_idle(cluster, "cr")
        cluster.query("COPY cr_copy FROM %s (FORMAT csv, HEADER true)", (str(file),))
        assert cluster.query("SELECT * FROM cr ORDER BY id") == \
            cluster.query("SELECT * FROM cr_copy ORDER BY id")
        # Its lines: every "\r", the quoted ones too.
        assert cluster.query("SELECT status, rows_loaded, rows_rejected, line_number FROM "
                             "ingest.files WHERE source = 'cr'") == \
            [("done", 50, 0, text.count("\r"))]
        assert path_counters(cluster, "cr") == ((7, 0) if path == "direct" else (0, 7))
    finally:
        cluster.query("SELECT ingest.drop_source('cr')")
        cluster.query("DROP TABLE cr, cr_copy")
