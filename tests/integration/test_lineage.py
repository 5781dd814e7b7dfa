"""Lineage and replay: options file_column and line_column fill target columns with each row's
file_id and line number; ingest.replay_file deletes a file's rows and loads it again in one
transaction, so that a reader never sees the file half present, and a kill -9 in the middle
leaves the old rows and redoes the replay."""
import os
import shutil
import time

import psycopg2
import pytest

from conftest import new_source, postgres_dir, wait_idle, wait_until, write_csv_atomically

LINEAGE = "{\"file_column\": \"_file\", \"line_column\": \"_line\"}"


def lineage_source(cluster, data_dir, name, batch_size=10000, options=LINEAGE, start=True):
    new_source(cluster, data_dir, name, "id bigint PRIMARY KEY, note text, _file bigint, "
               "_line bigint", start, batch_size=batch_size, options=options)


def file_id(cluster, source, file_name):
    return cluster.scalar("SELECT file_id FROM ingest.files WHERE source = %s AND file_name = %s",
                          (source, file_name))


def sql_error(cluster, sql, params=None):
    with pytest.raises(psycopg2.Error) as raised:
        cluster.query(sql, params)
    return raised.value.pgcode, raised.value.diag.message_primary


def test_lineage_columns_hold_the_file_id_and_line_number(cluster, data_dir):
    lineage_source(cluster, data_dir, "traced")
    write_csv_atomically(data_dir, "a.csv", "id,note", [f"{i},a{i}" for i in range(1, 6)])
    write_csv_atomically(data_dir, "b.csv", "note,id", ["b6,6", "\"two\nlines\",7", "b8,8"])
    wait_idle(cluster, "traced")
    a, b = file_id(cluster, "traced", "a.csv"), file_id(cluster, "traced", "b.csv")
    assert a != b
    assert cluster.query("SELECT id, note, _file, _line FROM traced ORDER BY id") == [
        (1, "a1", a, 2), (2, "a2", a, 3), (3, "a3", a, 4), (4, "a4", a, 5), (5, "a5", a, 6),
        (6, "b6", b, 2), (7, "two\nlines", b, 3), (8, "b8", b, 5)]
    assert cluster.query("SELECT count(*), count(DISTINCT (_file, _line)) FROM traced") == [(8, 8)]


def test_lineage_without_a_header_fills_the_other_columns_in_order(cluster, data_dir):
    cluster.query("CREATE TABLE traced_positional (_line bigint, id bigint, note text, "
                  "_file bigint)")
    cluster.query("SELECT ingest.create_source('traced_positional', %s, 'traced_positional', "
                  "options => %s)", (str(data_dir), "{\"header\": false, \"file_column\": "
                                     "\"_file\", \"line_column\": \"_line\"}"))
    cluster.query("SELECT ingest.start('traced_positional')")
    write_csv_atomically(data_dir, "p.csv", "1,p1", ["2,p2"])
    wait_idle(cluster, "traced_positional")
    p = file_id(cluster, "traced_positional", "p.csv")
    assert cluster.query("SELECT _line, id, note, _file FROM traced_positional ORDER BY id") == [
        (1, 1, "p1", p), (2, 2, "p2", p)]


def test_a_header_naming_a_lineage_column_fails_the_file(cluster, data_dir):
    lineage_source(cluster, data_dir, "traced_header")
    write_csv_atomically(data_dir, "h.csv", "id,note,_line", ["1,x,7"])
    wait_idle(cluster, "traced_header")
    assert cluster.query("SELECT status, error FROM ingest.files WHERE source = 'traced_header'") \
        == [("failed", "source \"traced_header\", file \"h.csv\": header of file \"h.csv\" names "
                       "column _line, which the source fills with lineage")]
    assert cluster.scalar("SELECT count(*) FROM traced_header") == 0


def test_lineage_options_are_checked_against_the_target(cluster, data_dir):
    cluster.query("CREATE TABLE traced_checks (id bigint, note text, small integer, "
                  "twice bigint GENERATED ALWAYS AS (id * 2) STORED, _file bigint)")

    def create(options):
        return sql_error(cluster, "SELECT ingest.create_source('checks', %s, 'traced_checks', "
                                  "options => %s)", (str(data_dir), options))

    assert create('{"file_column": "nope"}') == (
        "42703", "option \"file_column\" names column \"nope\", which table public.traced_checks does "
                 "not have")
    assert create('{"line_column": "small"}') == (
        "42804", "option \"line_column\" names column \"small\" of table public.traced_checks, which is "
                 "integer, not bigint")
    assert create('{"file_column": "twice"}') == (
        "22023", "option \"file_column\" names column \"twice\" of table public.traced_checks, which is "
                 "generated")
    assert create('{"file_column": "_file", "line_column": "_file"}') == (
        "22023", "options \"file_column\" and \"line_column\" must name different columns")
    assert create('{"file_column": 3}') == (
        "22023", "option \"file_column\" must be null or the name of a column of the target")
    cluster.query("SELECT ingest.create_source('checks', %s, 'traced_checks')", (str(data_dir),))
    assert sql_error(cluster, "SELECT ingest.alter_source('checks', options => %s)",
                     ('{"line_column": "note"}',)) == (
        "42804", "option \"line_column\" names column \"note\" of table public.traced_checks, which is "
                 "text, not bigint")
    cluster.query("SELECT ingest.alter_source('checks', options => %s)", ('{"file_column": "_file"}',))
    assert cluster.scalar("SELECT options->>'file_column' FROM ingest.sources "
                          "WHERE name = 'checks'") == "_file"


def test_replay_restores_exactly_one_copy_and_replaces_the_rejects(cluster, data_dir):
    lineage_source(cluster, data_dir, "replayed", batch_size=7)
    lines = [f"{i},r{i}" for i in range(1, 51)]
    lines[9] = "x,not a number"  # line 11
    lines[19] = "5,repeated key"  # line 21
    write_csv_atomically(data_dir, "r.csv", "id,note", lines)
    wait_idle(cluster, "replayed")
    r = file_id(cluster, "replayed", "r.csv")
    assert cluster.query("SELECT status, rows_loaded, rows_rejected FROM ingest.files "
                         "WHERE file_id = %s", (r,)) == [("done", 48, 2)]

    cluster.query("DELETE FROM replayed WHERE id BETWEEN 30 AND 39")
    cluster.query("UPDATE replayed SET note = 'changed' WHERE id <= 3")
    cluster.query("SELECT ingest.replay_file('replayed', 'r.csv')")
    wait_idle(cluster, "replayed")

    assert cluster.query("SELECT status, rows_loaded, rows_rejected, replay_requested, error "
                         "FROM ingest.files WHERE source = 'replayed'") == [
        ("done", 48, 2, False, None)]
    assert cluster.query("SELECT count(*), count(DISTINCT id), count(DISTINCT (_file, _line)) "
                         "FROM replayed WHERE _file = %s", (r,)) == [(48, 48, 48)]
    assert cluster.scalar("SELECT count(*) FROM replayed") == 48
    assert cluster.query("SELECT id, note, _line FROM replayed WHERE id IN (1, 3, 30, 50) "
                         "ORDER BY id") == [(1, "r1", 2), (3, "r3", 4), (30, "r30", 31),
                                            (50, "r50", 51)]
    assert cluster.query("SELECT line_number, sqlstate FROM ingest.rejects WHERE file_id = %s "
                         "ORDER BY line_number", (r,)) == [(11, "22P02"), (21, "23505")]


def test_replay_is_refused_without_file_column_or_when_the_file_is_gone(cluster, data_dir):
    cluster.query("CREATE TABLE untraced (id bigint, note text)")
    cluster.query("SELECT ingest.create_source('untraced', %s, 'untraced')", (str(data_dir),))
    cluster.query("SELECT ingest.start('untraced')")
    write_csv_atomically(data_dir, "u.csv", "id,note", ["1,u"])
    wait_idle(cluster, "untraced")
    assert sql_error(cluster, "SELECT ingest.replay_file('untraced', 'u.csv')") == (
        "55000", "source \"untraced\" has no file_column: its rows cannot be told apart by file")

    deleting = postgres_dir("pg_ingest_deleting_")
    lineage_source(cluster, deleting, "deleting", start=False,
                   options="{\"file_column\": \"_file\", \"on_success\": \"delete\"}")
    cluster.query("SELECT ingest.start('deleting')")
    write_csv_atomically(deleting, "d.csv", "id,note", ["1,d"])
    wait_idle(cluster, "deleting")
    wait_until(lambda: not (deleting / "d.csv").exists(), 60, "the loaded file to be deleted")
    with pytest.raises(psycopg2.Error) as raised:
        cluster.query("SELECT ingest.replay_file('deleting', 'd.csv')")
    assert raised.value.pgcode == "55000"
    assert raised.value.diag.message_primary == \
        "file \"d.csv\" of source \"deleting\" is no longer in its directory"
    assert raised.value.diag.message_detail == \
        "The source's on_success = delete deletes files once they are loaded."
    assert raised.value.diag.message_hint == \
        "Put the file back into the directory under its name, then call ingest.replay_file again."
    assert cluster.query("SELECT status, replay_requested FROM ingest.files "
                         "WHERE source = 'deleting'") == [("done", False)]
    shutil.rmtree(deleting)


def test_a_reader_never_sees_the_file_partly_present_during_a_replay(cluster, data_dir):
    rows = 50_000
    lineage_source(cluster, data_dir, "watched", batch_size=1000)
    write_csv_atomically(data_dir, "big.csv", "id,note", [f"{i},n{i}" for i in range(1, rows + 1)])
    wait_idle(cluster, "watched")
    big = file_id(cluster, "watched", "big.csv")
    old_xmins = [x for (x,) in cluster.query("SELECT DISTINCT xmin::text FROM watched")]
    # Each batch's statement takes a little longer, so the replay lasts long enough to be watched.
    cluster.query("CREATE FUNCTION watched_pause() RETURNS trigger LANGUAGE plpgsql AS "
                  "$$ BEGIN PERFORM pg_sleep(0.02); RETURN NULL; END $$")
    cluster.query("CREATE TRIGGER pause AFTER INSERT ON watched FOR EACH STATEMENT "
                  "EXECUTE FUNCTION watched_pause()")

    cluster.query("SELECT ingest.replay_file('watched', 'big.csv')")
    reader = cluster.connect()
    counts, polls_while_loading = set(), 0
    deadline = time.time() + 120
    with reader.cursor() as cur:
        while True:
            assert time.time() < deadline, "the replay did not finish"
            cur.execute("SELECT state = 'loading' FROM ingest.workers WHERE source = 'watched'")
            loading = cur.fetchone()
            cur.execute("SELECT count(*) FROM watched")
            counts.add(cur.fetchone()[0])
            polls_while_loading += loading == (True,)
            cur.execute("SELECT replay_requested FROM ingest.files WHERE file_id = %s", (big,))
            if not cur.fetchone()[0]:
                break
    reader.close()
    assert counts == {rows}
    assert polls_while_loading > 0
    assert cluster.query("SELECT status, rows_loaded, rows_rejected FROM ingest.files "
                         "WHERE file_id = %s", (big,)) == [("done", rows, 0)]
    assert cluster.query("SELECT count(*), count(DISTINCT id), count(DISTINCT _line) "
                         "FROM watched WHERE _file = %s", (big,)) == [(rows, rows, rows)]
    # Every row was written anew by the replay.
    assert cluster.scalar("SELECT count(*) FROM watched WHERE xmin::text = ANY(%s)",
                          (old_xmins,)) == 0


def test_kill_9_during_a_replay_keeps_the_old_rows_and_replays_again(cluster, data_dir):
    rows = 5000
    lineage_source(cluster, data_dir, "crashed", batch_size=500)
    write_csv_atomically(data_dir, "c.csv", "id,note", [f"{i},c{i}" for i in range(1, rows + 1)])
    wait_idle(cluster, "crashed")
    c = file_id(cluster, "crashed", "c.csv")
    cluster.query("DELETE FROM crashed WHERE id > 4000")
    # A gate that survives the crash: inserting row 3000 waits while crashed_gate is closed.
    cluster.query("CREATE TABLE crashed_gate (closed boolean)")
    cluster.query("INSERT INTO crashed_gate VALUES (true)")
    cluster.query("CREATE FUNCTION crashed_wait() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                  "IF NEW.id = 3000 THEN WHILE (SELECT closed FROM public.crashed_gate) LOOP "
                  "PERFORM pg_sleep(0.02); END LOOP; END IF; RETURN NEW; END $$")
    cluster.query("CREATE TRIGGER gate BEFORE INSERT ON crashed FOR EACH ROW "
                  "EXECUTE FUNCTION crashed_wait()")

    def waiting_at_gate():
        return cluster.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
            "'pg_ingest: crashed' AND wait_event = 'PgSleep'") == 1

    cluster.query("SELECT ingest.replay_file('crashed', 'c.csv')")
    wait_until(waiting_at_gate, 60, "the replay to reach the gate")
    assert cluster.scalar("SELECT count(*) FROM crashed") == 4000
    killed, restarted = cluster.kill_workers("crashed")
    assert restarted != killed
    wait_until(waiting_at_gate, 120, "the replay to reach the gate again after the restart")
    assert cluster.query("SELECT status, rows_loaded, replay_requested FROM ingest.files "
                         "WHERE file_id = %s", (c,)) == [("pending", rows, True)]
    assert cluster.query("SELECT count(*), min(id), max(id) FROM crashed") == [(4000, 1, 4000)]

    cluster.query("UPDATE crashed_gate SET closed = false")
    wait_idle(cluster, "crashed")
    assert cluster.query("SELECT status, rows_loaded, rows_rejected, replay_requested "
                         "FROM ingest.files WHERE file_id = %s", (c,)) == [("done", rows, 0, False)]
    assert cluster.query("SELECT count(*), count(DISTINCT id), count(DISTINCT (_file, _line)), "
                         "min(_file), max(_file) FROM crashed") == [(rows, rows, rows, c, c)]


def test_a_failed_replay_keeps_the_old_rows_and_can_be_asked_again(cluster, data_dir):
    lineage_source(cluster, data_dir, "refused", batch_size=4,
                   options="{\"file_column\": \"_file\", \"max_rejects_per_file\": 0}")
    write_csv_atomically(data_dir, "f.csv", "id,note", [f"{i},f{i}" for i in range(1, 21)])
    wait_idle(cluster, "refused")
    f = file_id(cluster, "refused", "f.csv")
    cluster.query("UPDATE refused SET note = 'kept' WHERE id = 1")
    cluster.query("ALTER TABLE refused ADD CONSTRAINT not_13 CHECK (id <> 13) NOT VALID")

    cluster.query("SELECT ingest.replay_file('refused', 'f.csv')")
    wait_idle(cluster, "refused")
    assert cluster.query("SELECT status, rows_loaded, rows_rejected, replay_requested, error "
                         "FROM ingest.files WHERE file_id = %s", (f,)) == [
        ("failed", 20, 0, True, "source \"refused\", file \"f.csv\", line 14: file \"f.csv\" has "
                                "more than 0 rejected lines (max_rejects_per_file)")]
    assert cluster.query("SELECT count(*), min(note) FROM refused") == [(20, "f10")]
    assert cluster.scalar("SELECT note FROM refused WHERE id = 1") == "kept"
    assert cluster.scalar("SELECT count(*) FROM ingest.rejects WHERE file_id = %s", (f,)) == 0

    cluster.query("ALTER TABLE refused DROP CONSTRAINT not_13")
    cluster.query("SELECT ingest.replay_file('refused', 'f.csv')")
    wait_idle(cluster, "refused")
    assert cluster.query("SELECT status, rows_loaded, rows_rejected, replay_requested, error "
                         "FROM ingest.files WHERE file_id = %s", (f,)) == [
        ("done", 20, 0, False, None)]
    assert cluster.query("SELECT count(*), count(DISTINCT id), min(note) FROM refused "
                         "WHERE _file = %s", (f,)) == [(20, 20, "f1")]


def test_replays_by_parallel_workers_and_refusals_of_duplicates(cluster, data_dir):
    lineage_source(cluster, data_dir, "parallel", batch_size=100,
                   options="{\"file_column\": \"_file\", \"line_column\": \"_line\", \"workers\": 2}")
    for n in range(4):
        write_csv_atomically(data_dir, f"p{n}.csv", "id,note",
                             [f"{n * 10000 + i},p{n}" for i in range(1, 2001)])
    wait_idle(cluster, "parallel")
    write_csv_atomically(data_dir, "copy_of_p0.csv", "id,note", [f"{i},p0" for i in range(1, 2001)])
    wait_idle(cluster, "parallel")
    assert cluster.query("SELECT status FROM ingest.files WHERE file_name = 'copy_of_p0.csv'") == \
        [("duplicate",)]
    assert sql_error(cluster, "SELECT ingest.replay_file('parallel', 'copy_of_p0.csv')") == (
        "55000", "file \"copy_of_p0.csv\" of source \"parallel\" is a duplicate and has no rows "
                 "to replay")

    cluster.query("DELETE FROM parallel WHERE id % 3 = 0")
    cluster.query("SELECT ingest.replay_file('parallel', name) FROM unnest(%s) name",
                  (["p0.csv", "p1.csv", "p2.csv", "p3.csv"],))
    # Asked again before the replay ran: nothing more.
    cluster.query("SELECT ingest.replay_file('parallel', 'p0.csv')")
    wait_idle(cluster, "parallel")
    assert cluster.query(
        "SELECT f.file_name, f.status, f.rows_loaded, f.replay_requested, count(t.id), "
        "  count(DISTINCT t._line) FROM ingest.files f LEFT JOIN parallel t ON t._file = f.file_id "
        "WHERE f.source = 'parallel' GROUP BY 1, 2, 3, 4 ORDER BY 1") == [
        ("copy_of_p0.csv", "duplicate", 0, False, 0, 0),
        ("p0.csv", "done", 2000, False, 2000, 2000), ("p1.csv", "done", 2000, False, 2000, 2000),
        ("p2.csv", "done", 2000, False, 2000, 2000), ("p3.csv", "done", 2000, False, 2000, 2000)]
    assert cluster.scalar("SELECT count(*) FROM parallel") == 8000


def test_a_lineage_column_dropped_from_the_target_fails_the_file(cluster, data_dir):
    lineage_source(cluster, data_dir, "dropped_lineage")
    cluster.query("ALTER TABLE dropped_lineage DROP COLUMN _line")
    write_csv_atomically(data_dir, "d.csv", "id,note", ["1,d"])
    wait_idle(cluster, "dropped_lineage")
    assert cluster.query("SELECT status, error FROM ingest.files "
                         "WHERE source = 'dropped_lineage'") == [
        ("failed", "source \"dropped_lineage\", file \"d.csv\": table public.dropped_lineage has "
                   "no column _line to write (option line_column)")]


def test_replay_after_a_touch_and_after_bytes_changed_in_place_loads_the_file_as_it_is(
        cluster, data_dir):
    # A file is judged by its bytes: a touch does not stop a replay. Bytes changed in place (the
    # same inode; with the default on_file_change = fail the file failed) are replayed as they
    # are now, their new size, mtime and checksum recorded. Another file under the name is not
    # this file: refused, naming what to do.
    lineage_source(cluster, data_dir, "retouched", batch_size=2)
    path = data_dir / "t.csv"
    write_csv_atomically(data_dir, "t.csv", "id,note", [f"{i},t{i}" for i in range(1, 6)])
    wait_idle(cluster, "retouched")
    t = file_id(cluster, "retouched", "t.csv")
    os.utime(path, (1_000_000_000, 1_000_000_000))
    cluster.query("DELETE FROM retouched WHERE id = 3")
    cluster.query("SELECT ingest.replay_file('retouched', 't.csv')")
    wait_idle(cluster, "retouched")
    assert cluster.query("SELECT id, note, _file FROM retouched ORDER BY id") == [
        (i, f"t{i}", t) for i in range(1, 6)]
    with open(path, "r+b") as f:  # the same size, other notes
        f.seek(len(b"id,note\n"))
        f.write(b"1,u1\n2,u2\n")
    wait_until(lambda: cluster.scalar("SELECT status FROM ingest.files WHERE file_id = %s",
                                      (t,)) == "failed", 30, "the change to be seen")
    cluster.query("SELECT ingest.replay_file('retouched', 't.csv')")
    wait_idle(cluster, "retouched")
    assert cluster.query("SELECT id, note FROM retouched ORDER BY id") == [
        (1, "u1"), (2, "u2"), (3, "t3"), (4, "t4"), (5, "t5")]
    st = path.stat()
    [(status, rows, size, mtime, same_sha256, error)] = cluster.query(
        "SELECT status, rows_loaded, file_size, extract(epoch FROM file_mtime)::float8, "
        "  content_sha256 = sha256(%s), error FROM ingest.files WHERE source = 'retouched'",
        (path.read_bytes(),))
    assert (status, rows, size, same_sha256, error) == ("done", 5, st.st_size, True, None)
    assert abs(mtime - st.st_mtime_ns / 1e9) < 2e-6
    cluster.query("SELECT ingest.stop('retouched')")  # the new file below stays unregistered
    os.rename(path, data_dir / ".t.old")
    write_csv_atomically(data_dir, "t.csv", "id,note", ["9,x"])
    inode = (data_dir / "t.csv").stat().st_ino
    with pytest.raises(psycopg2.Error) as raised:
        cluster.query("SELECT ingest.replay_file('retouched', 't.csv')")
    assert (raised.value.pgcode, raised.value.diag.message_primary,
            raised.value.diag.message_hint) == (
        "55000",
        f'file "t.csv" of source "retouched" is no longer in its directory as it was loaded: '
        f"its name holds another file (inode {inode}, loaded inode {st.st_ino})",
        "That file is a new version of the name, loaded by itself (with on_file_change = "
        "replace, in place of this one's rows); replay it once it is done.")
