"""File-level failures: a file that vanishes or shrinks while it is loaded, content that is not
text in the declared encoding, a target altered or dropped under a running source, a full disk.
The file fails with an error naming source, file and line (or, without a target, the source
stops), committed rows stay, the worker goes on, and retry_file loads the rest exactly once."""
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from conftest import new_source, wait_idle, wait_until, write_csv_atomically

GATE_FUNCTION = """CREATE OR REPLACE FUNCTION public.wait_at_gate() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.id = TG_ARGV[0]::bigint THEN
            PERFORM pg_advisory_xact_lock_shared(TG_ARGV[1]::bigint);
        END IF;
        RETURN NEW;
    END $$"""


class Gate:
    """An advisory lock held by the test: the target's trigger waits on it when it inserts the row
    with a given id, so the worker stands still inside that batch's transaction."""

    def __init__(self, cluster, table, at_id, key):
        self.cluster, self.key = cluster, key
        cluster.query(GATE_FUNCTION)
        cluster.query(f"CREATE TRIGGER gate BEFORE INSERT ON {table} FOR EACH ROW "
                      f"EXECUTE FUNCTION public.wait_at_gate('{at_id}', '{key}')")
        self.conn = cluster.connect()
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (key,))

    def wait_until_reached(self):
        wait_until(lambda: self.cluster.scalar(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s "
            "AND NOT granted", (self.key,)) == 1, 30, "the worker to reach the gate")

    def open(self):
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        self.conn.close()


def file_rows(cluster, source):
    return cluster.query("SELECT file_name, status, rows_loaded, rows_rejected, error "
                         "FROM ingest.files WHERE source = %s ORDER BY file_name, file_id", (source,))


def notes(first, last):
    return [f"{i},{chr(ord('a') + i - 1)}" for i in range(first, last + 1)]


def wait_for_worker_exit(cluster, source):
    wait_until(lambda: not cluster.query("SELECT 1 FROM pg_stat_activity "
                                         "WHERE application_name = %s", (f"pg_ingest: {source}",)),
               30, "the worker to exit")


def test_file_deleted_while_loading_loads_to_its_end(cluster, data_dir):
    # The worker holds the file open: the version it discovered stays readable to the end.
    new_source(cluster, data_dir, "unlinked", batch_size=2)
    write_csv_atomically(data_dir, "a.csv", "id,note", notes(1, 6))
    write_csv_atomically(data_dir, "b.csv", "id,note", notes(7, 7))
    gate = Gate(cluster, "unlinked", at_id=3, key=50101)
    cluster.query("SELECT ingest.start('unlinked')")
    gate.wait_until_reached()
    (data_dir / "a.csv").unlink()
    gate.open()
    wait_idle(cluster, "unlinked")
    assert file_rows(cluster, "unlinked") == [("a.csv", "done", 6, 0, None),
                                              ("b.csv", "done", 1, 0, None)]
    assert cluster.query("SELECT id FROM unlinked ORDER BY id") == [(i,) for i in range(1, 8)]
    cluster.query("SELECT ingest.stop('unlinked')")


def test_file_deleted_while_the_worker_is_stopped_fails_on_resume(cluster, data_dir):
    new_source(cluster, data_dir, "resumed", batch_size=2)
    write_csv_atomically(data_dir, "a.csv", "id,note", notes(1, 6))
    write_csv_atomically(data_dir, "b.csv", "id,note", notes(7, 8))
    gate = Gate(cluster, "resumed", at_id=3, key=50102)
    cluster.query("SELECT ingest.start('resumed')")
    gate.wait_until_reached()
    # Stopping rolls back the batch at the gate: lines 2 and 3 are committed, nothing more.
    cluster.query("SELECT ingest.stop('resumed')")
    wait_for_worker_exit(cluster, "resumed")
    gate.open()
    assert cluster.query("SELECT status, rows_loaded, line_number FROM ingest.files "
                         "WHERE source = 'resumed' AND file_name = 'a.csv'") == [("loading", 2, 3)]
    (data_dir / "a.csv").unlink()
    cluster.query("SELECT ingest.start('resumed')")
    wait_idle(cluster, "resumed")
    assert file_rows(cluster, "resumed") == [
        ("a.csv", "failed", 2, 0,
         f'source "resumed", file "a.csv", line 4: could not open file "{data_dir}/a.csv": '
         "No such file or directory"),
        ("b.csv", "done", 2, 0, None)]
    assert cluster.query("SELECT id FROM resumed ORDER BY id") == [(1,), (2,), (7,), (8,)]
    cluster.query("SELECT ingest.stop('resumed')")


def test_file_truncated_while_loading_fails_keeping_committed_rows(cluster, data_dir):
    # Fixed-width lines: the reader's first read (256 KiB) ends exactly after line 32769, the end
    # of the second batch, whose COPY the gate holds at its first row; the file then shrinks
    # under it. COPY reads the file itself (the direct path, see copy_path.hpp): the file ends
    # early under it, so the second batch is not committed, and the reader finds the change.
    lines, batch = 40000, 16384
    new_source(cluster, data_dir, "shrunk", columns="id bigint PRIMARY KEY", batch_size=batch)
    tmp = data_dir / ".t.tmp"
    tmp.write_bytes(b"id\n" + b"".join(b"%07d\n" % i for i in range(1, lines + 1)))
    tmp.rename(data_dir / "t.csv")
    write_csv_atomically(data_dir, "u.csv", "id", ["50000"])
    gate = Gate(cluster, "shrunk", at_id=batch + 1, key=50103)
    cluster.query("SELECT ingest.start('shrunk')")
    gate.wait_until_reached()
    with open(data_dir / "t.csv", "r+b") as f:
        f.truncate(3 + 8 * 20000)
    gate.open()
    wait_idle(cluster, "shrunk")
    # Judged by its bytes, the file shrank: it fails, and is never a new version by itself.
    assert file_rows(cluster, "shrunk") == [
        ("t.csv", "failed", batch, 0,
         f'source "shrunk", file "t.csv", line {batch + 2}: file "t.csv" shrank from '
         f"{3 + 8 * lines} to 160003 bytes: put its bytes back and ingest.retry_file loads the "
         "rest exactly once, or ingest.skip_file gives it up; to load the file as it is now, "
         "copy it under a new name"),
        ("u.csv", "done", 1, 0, None)]
    assert cluster.query("SELECT count(*), min(id), max(id) FROM shrunk WHERE id < 50000") == [
        (batch, 1, batch)]
    cluster.query("SELECT ingest.stop('shrunk')")


def test_content_that_is_not_text_fails_the_file_and_a_stray_byte_is_a_row_reject(cluster,
                                                                                    data_dir):
    new_source(cluster, data_dir, "wrongenc")
    cluster.query("SELECT ingest.start('wrongenc')")
    files = {
        "a_utf16_bom.csv": "\ufeffid,note\n1,a\n".encode("utf-16-le"),
        "b_utf16_no_bom.csv": "id,note\n2,b\n".encode("utf-16-le"),
        "c_latin1_byte.csv": b"id,note\n3,caf\xe9\n4,d\n",
        "d_clean.csv": b"id,note\n5,e\n",
    }
    for name, content in files.items():
        (data_dir / f".{name}.tmp").write_bytes(content)
        (data_dir / f".{name}.tmp").rename(data_dir / name)
    wait_idle(cluster, "wrongenc")
    assert file_rows(cluster, "wrongenc") == [
        ("a_utf16_bom.csv", "failed", 0, 0,
         'source "wrongenc", file "a_utf16_bom.csv": file "a_utf16_bom.csv" starts with a '
         "UTF-16LE byte order mark, but the source declares encoding UTF8"),
        ("b_utf16_no_bom.csv", "failed", 0, 0,
         'source "wrongenc", file "b_utf16_no_bom.csv": file "b_utf16_no_bom.csv" has 12 NUL '
         "bytes in its first 24 bytes (UTF-16, UTF-32 or binary), but the source declares "
         "encoding UTF8"),
        ("c_latin1_byte.csv", "done", 1, 1, None),
        ("d_clean.csv", "done", 1, 0, None)]
    assert cluster.query("SELECT file_name, line_number, raw_line, sqlstate, error "
                         "FROM ingest.rejects WHERE source = 'wrongenc'") == [
        ("c_latin1_byte.csv", 2, "3,caf\\xe9", "22P04",
         "invalid UTF-8 byte sequence 0xe9 at column 2 "
         "(raw_line has bytes the database encoding cannot hold, shown as \\xNN)")]
    assert cluster.query("SELECT id, note FROM wrongenc ORDER BY id") == [(4, "d"), (5, "e")]
    cluster.query("SELECT ingest.stop('wrongenc')")


def test_declared_single_byte_encoding_rejects_wide_content_too(cluster, data_dir):
    new_source(cluster, data_dir, "latin", options='{"encoding": "LATIN1"}')
    cluster.query("SELECT ingest.start('latin')")
    (data_dir / ".w.tmp").write_bytes("\ufeffid,note\n1,a\n".encode("utf-16-be"))
    (data_dir / ".w.tmp").rename(data_dir / "w.csv")
    (data_dir / ".x.tmp").write_bytes(b"id,note\n2,caf\xe9\n")
    (data_dir / ".x.tmp").rename(data_dir / "x.csv")
    wait_idle(cluster, "latin")
    assert file_rows(cluster, "latin") == [
        ("w.csv", "failed", 0, 0,
         'source "latin", file "w.csv": file "w.csv" starts with a UTF-16BE byte order mark, '
         "but the source declares encoding LATIN1"),
        ("x.csv", "done", 1, 0, None)]
    assert cluster.query("SELECT id, note FROM latin") == [(2, "caf\u00e9")]
    cluster.query("SELECT ingest.stop('latin')")


def run_in_background(cluster, sql):
    """Runs sql in its own session and thread; returns the thread."""
    def run():
        cluster.query(sql)
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_for_ddl_to_queue(cluster, table):
    wait_until(lambda: cluster.scalar(
        "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass AND "
        "mode = 'AccessExclusiveLock' AND NOT granted", (table,)) == 1,
        30, f"DDL on {table} to wait for the worker")


ALTERATIONS = {
    # name: (DDL run while the worker is in the file, the error, the fix, rows afterwards)
    "column_dropped": (
        "ALTER TABLE {t} DROP COLUMN note",
        'column "note" of relation "{t}" does not exist',
        "ALTER TABLE {t} ADD COLUMN note text",
        [(1, None), (2, None), (3, None), (4, None), (5, "e"), (6, "f"), (7, None)]),
    "type_changed": (
        "ALTER TABLE {t} ALTER COLUMN note TYPE integer USING ascii(note)",
        'column "note" is of type integer but expression is of type text',
        "ALTER TABLE {t} ALTER COLUMN note TYPE text",
        [(1, "97"), (2, "98"), (3, "99"), (4, "100"), (5, "e"), (6, "f"), (7, None)]),
}


@pytest.mark.parametrize("case", sorted(ALTERATIONS))
def test_target_altered_incompatibly_fails_the_file_and_retry_loads_the_rest_once(
        cluster, data_dir, case):
    ddl, error, fix, rows = (text.format(t=f"altered_{case}") if isinstance(text, str) else text
                             for text in ALTERATIONS[case])
    table = f"altered_{case}"
    new_source(cluster, data_dir, table, batch_size=2)
    write_csv_atomically(data_dir, "a.csv", "id,note", notes(1, 6))
    write_csv_atomically(data_dir, "b.csv", "id", ["7"])
    gate = Gate(cluster, table, at_id=3, key=50104 if case == "column_dropped" else 50105)
    cluster.query("SELECT ingest.start(%s)", (table,))
    gate.wait_until_reached()
    worker = cluster.worker_pid(table)
    # The DDL queues behind the batch at the gate and runs once it commits, before the next.
    altering = run_in_background(cluster, ddl)
    wait_for_ddl_to_queue(cluster, table)
    gate.open()
    altering.join()
    wait_idle(cluster, table)
    assert file_rows(cluster, table) == [
        ("a.csv", "failed", 4, 0, f'source "{table}", file "a.csv", line 6: {error}'),
        ("b.csv", "done", 1, 0, None)]
    assert cluster.scalar(f"SELECT count(*) FROM {table}") == 5
    assert cluster.scalar("SELECT count(*) FROM ingest.rejects WHERE source = %s", (table,)) == 0

    cluster.query(fix)
    cluster.query("SELECT ingest.retry_file(%s, 'a.csv')", (table,))
    wait_idle(cluster, table)
    assert file_rows(cluster, table) == [("a.csv", "done", 6, 0, None),
                                         ("b.csv", "done", 1, 0, None)]
    assert cluster.query(f"SELECT id, note FROM {table} ORDER BY id") == rows
    assert cluster.worker_pid(table) == worker
    cluster.query("SELECT ingest.stop(%s)", (table,))


def test_target_dropped_fails_the_source_and_the_file_resumes_on_a_new_target(cluster, data_dir):
    new_source(cluster, data_dir, "vanishing", batch_size=2)
    write_csv_atomically(data_dir, "a.csv", "id,note", notes(1, 6))
    gate = Gate(cluster, "vanishing", at_id=3, key=50106)
    cluster.query("SELECT ingest.start('vanishing')")
    gate.wait_until_reached()
    dropping = run_in_background(cluster, "DROP TABLE vanishing")
    wait_for_ddl_to_queue(cluster, "vanishing")
    gate.open()
    dropping.join()
    wait_until(lambda: cluster.scalar("SELECT state FROM ingest.status "
                                      "WHERE source = 'vanishing'") == "failed",
               30, "the source to fail")
    wait_for_worker_exit(cluster, "vanishing")
    assert cluster.scalar("SELECT last_error FROM ingest.status WHERE source = 'vanishing'") == \
        'source "vanishing", file "a.csv", line 6: target table no longer exists'
    # The file is not to blame: it keeps its committed position, and no worker is started again.
    assert cluster.query("SELECT status, rows_loaded, line_number, error FROM ingest.files "
                         "WHERE source = 'vanishing'") == [("loading", 4, 5, None)]
    assert cluster.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                          "'pg_ingest: vanishing'") == 0

    cluster.query("CREATE TABLE vanishing_again (id bigint PRIMARY KEY, note text)")
    cluster.query("SELECT ingest.alter_source('vanishing', target => 'vanishing_again')")
    cluster.query("SELECT ingest.start('vanishing')")
    wait_idle(cluster, "vanishing")
    assert file_rows(cluster, "vanishing") == [("a.csv", "done", 6, 0, None)]
    assert cluster.query("SELECT id, note FROM vanishing_again ORDER BY id") == [(5, "e"), (6, "f")]
    assert cluster.scalar("SELECT state FROM ingest.status WHERE source = 'vanishing'") != "failed"
    cluster.query("SELECT ingest.stop('vanishing')")


@pytest.fixture
def small_filesystem():
    """A 2 MB tmpfs the server can write, for a tablespace that fills up."""
    path = Path(tempfile.mkdtemp(prefix="pg_ingest_small_"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2M,mode=0700", "tmpfs", str(path)],
                   check=True)
    shutil.chown(path, "postgres", "postgres")
    yield path
    # Lazily: after a failed test the server may still hold a file of the tablespace open.
    subprocess.run(["umount", "--lazy", str(path)], check=True)
    path.rmdir()


def test_disk_full_fails_the_file_and_retry_completes_it_once(cluster, data_dir,
                                                              small_filesystem):
    cluster.query(f"CREATE TABLESPACE small LOCATION '{small_filesystem}'")
    new_source(cluster, data_dir, "filled", columns="id bigint, pad text", batch_size=1000)
    # No vacuum may turn the aborted batch's dead rows into free space behind the test's back.
    cluster.query("ALTER TABLE filled SET TABLESPACE small, SET (autovacuum_enabled = off)")
    pad = "x" * 200
    # About 6 MB of rows: the 2 MB file system fills up in the first file.
    write_csv_atomically(data_dir, "a.csv", "id,pad", [f"{i},{pad}" for i in range(1, 20001)])
    write_csv_atomically(data_dir, "b.csv", "id,pad", [f"{i},{pad}" for i in range(20001, 20101)])
    cluster.query("SELECT ingest.start('filled')")
    worker = cluster.worker_pid("filled")
    wait_idle(cluster, "filled")
    path = cluster.scalar("SELECT pg_relation_filepath('filled')")
    [(status_a, loaded_a, rejected_a, error_a), (status_b, loaded_b, rejected_b, error_b)] = \
        cluster.query("SELECT status, rows_loaded, rows_rejected, error FROM ingest.files "
                      "WHERE source = 'filled' ORDER BY file_name")
    assert (status_a, rejected_a, status_b, loaded_b, rejected_b) == ("failed", 0, "failed", 0, 0)
    assert 0 < loaded_a < 20000 and loaded_a % 1000 == 0
    # Which file of the table the server fails to extend, and when, is the server's own business
    # (19 extends the visibility map where 15 extends the heap): the error names the source, the
    # file, the first line not loaded, a file of the table and the full disk.
    full = '": No space left on device'
    assert re.fullmatch(rf'source "filled", file "a.csv", line {loaded_a + 2}: '
                        rf'could not extend file "{re.escape(path)}(_\w+)?{full}', error_a), error_a
    assert re.fullmatch(rf'source "filled", file "b.csv", line 2: '
                        rf'could not extend file "{re.escape(path)}(_\w+)?{full}', error_b), error_b
    assert cluster.worker_pid("filled") == worker

    # Room again before reading the table back: since 19 a SELECT may itself extend the
    # visibility map. Nothing loads in between, both files are failed until retried.
    subprocess.run(["mount", "-o", "remount,size=16M", str(small_filesystem)], check=True)
    assert cluster.query("SELECT count(*), count(DISTINCT id), max(id) FROM filled") == [
        (loaded_a, loaded_a, loaded_a)]
    assert cluster.scalar("SELECT count(*) FROM ingest.rejects WHERE source = 'filled'") == 0
    assert cluster.query("SELECT status, rows_loaded FROM ingest.files WHERE source = 'filled' "
                         "ORDER BY file_name") == [("failed", loaded_a), ("failed", 0)]
    assert cluster.scalar("SELECT last_error FROM ingest.status WHERE source = 'filled'") == error_b
    cluster.query("SELECT ingest.retry_file('filled', 'a.csv')")
    cluster.query("SELECT ingest.retry_file('filled', 'b.csv')")
    wait_idle(cluster, "filled")
    assert cluster.query("SELECT file_name, status, rows_loaded, rows_rejected, error "
                         "FROM ingest.files WHERE source = 'filled' ORDER BY file_name") == [
        ("a.csv", "done", 20000, 0, None), ("b.csv", "done", 100, 0, None)]
    assert cluster.query("SELECT count(*), count(DISTINCT id), min(id), max(id) FROM filled") == [
        (20100, 20100, 1, 20100)]
    assert cluster.worker_pid("filled") == worker
    # Space freed and every file done: the error is past.
    wait_until(lambda: cluster.scalar("SELECT last_error FROM ingest.status "
                                      "WHERE source = 'filled'") is None, 30, "the error to clear")
    cluster.query("SELECT ingest.drop_source('filled')")
    cluster.query("DROP TABLE filled")
    cluster.query("DROP TABLESPACE small")
