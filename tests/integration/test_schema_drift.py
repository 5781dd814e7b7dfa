"""Schema drift (option on_new_columns): a file whose header names a column the target lacks
fails (fail, the default), loads without it and says so in ingest.files.ignored_columns
(ignore), keeps it per row in a jsonb rescue_column (rescue), or adds it as a text column
(add). Each file is judged by its own header."""
import json
import random
import threading
import time

import psycopg2
import pytest

from conftest import as_role, new_source, wait_idle, write_csv_atomically


def sql_error(cluster, sql, params=None):
    with pytest.raises(psycopg2.Error) as raised:
        cluster.query(sql, params)
    return raised.value.pgcode, raised.value.diag.message_primary


def files_of(cluster, source):
    return cluster.query("SELECT file_name, status, rows_loaded, rows_rejected, ignored_columns, "
                         "error FROM ingest.files WHERE source = %s ORDER BY file_name", (source,))


def test_fail_is_the_default_and_names_the_columns(cluster, data_dir):
    new_source(cluster, data_dir, "drift_fail", start=True)
    write_csv_atomically(data_dir, "a.csv", "id,note,colour", ["1,a,red"])
    wait_idle(cluster, "drift_fail")
    assert files_of(cluster, "drift_fail") == [
        ("a.csv", "failed", 0, 0, None,
         'source "drift_fail", file "a.csv": header of file "a.csv" names columns that table '
         'public.drift_fail does not have: colour')]
    assert cluster.scalar("SELECT options->>'on_new_columns' FROM ingest.sources "
                          "WHERE name = 'drift_fail'") == "fail"


def test_ignore_drops_the_column_and_notes_it(cluster, data_dir):
    new_source(cluster, data_dir, "drift_ignore", "id bigint PRIMARY KEY, note text "
               "DEFAULT 'none'", True, options='{"on_new_columns": "ignore"}')
    write_csv_atomically(data_dir, "a.csv", "id,note", ["1,a", "2,b"])
    write_csv_atomically(data_dir, "b.csv", "colour,id", ["red,3", "blue,4", ",5"])
    wait_idle(cluster, "drift_ignore")
    assert files_of(cluster, "drift_ignore") == [
        ("a.csv", "done", 2, 0, None, None), ("b.csv", "done", 3, 0, ["colour"], None)]
    assert cluster.query("SELECT id, note FROM drift_ignore ORDER BY id") == [
        (1, "a"), (2, "b"), (3, "none"), (4, "none"), (5, "none")]


def test_rescue_keeps_the_unknown_columns_as_jsonb(cluster, data_dir):
    new_source(cluster, data_dir, "drift_rescue", "id bigint PRIMARY KEY, note text, "
               "extra jsonb", True,
               options='{"on_new_columns": "rescue", "rescue_column": "extra"}')
    write_csv_atomically(data_dir, "a.csv", "id,note", ["1,a"])
    write_csv_atomically(data_dir, "b.csv", "id,colour,note", ["2,red,b", "3,,c",
                                                              "4,\"\",d", "x,blue,e"])
    wait_idle(cluster, "drift_rescue")
    assert files_of(cluster, "drift_rescue") == [
        ("a.csv", "done", 1, 0, None, None), ("b.csv", "done", 3, 1, None, None)]
    # A NULL field is kept as JSON null; a file without new columns leaves the column NULL.
    assert cluster.query("SELECT id, note, extra FROM drift_rescue ORDER BY id") == [
        (1, "a", None), (2, "b", {"colour": "red"}), (3, "c", {"colour": None}),
        (4, "d", {"colour": ""})]
    assert cluster.query("SELECT line_number, error FROM ingest.rejects "
                         "WHERE source = 'drift_rescue'") == [
        (5, 'invalid input syntax for type bigint: "x"')]


def test_add_adds_a_text_column_in_the_files_load(cluster, data_dir):
    new_source(cluster, data_dir, "drift_add", start=True, options='{"on_new_columns": "add"}')
    write_csv_atomically(data_dir, "a.csv", "id,note", ["1,a"])
    write_csv_atomically(data_dir, "b.csv", "id,note,colour", ["2,b,red", "3,c,"])
    write_csv_atomically(data_dir, "c.csv", "id,colour", ["4,blue"])
    wait_idle(cluster, "drift_add")
    assert [row[:5] for row in files_of(cluster, "drift_add")] == [
        ("a.csv", "done", 1, 0, None), ("b.csv", "done", 2, 0, None),
        ("c.csv", "done", 1, 0, None)]
    assert cluster.scalar("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                          "WHERE attrelid = 'drift_add'::regclass AND attname = 'colour'") == "text"
    assert cluster.query("SELECT id, note, colour FROM drift_add ORDER BY id") == [
        (1, "a", None), (2, "b", "red"), (3, "c", None), (4, None, "blue")]


def test_drift_with_a_transform_shapes_the_batch(cluster, data_dir):
    cluster.query("CREATE TABLE drift_out (id bigint PRIMARY KEY, note text, colour text)")
    new_source(cluster, data_dir, "drift_tx", start=True, options=json.dumps({
        "on_new_columns": "add",
        "transform": "INSERT INTO drift_out SELECT id, note, NULL FROM batch"}))
    write_csv_atomically(data_dir, "a.csv", "id,note,colour", ["1,a,red", "2,b,blue"])
    wait_idle(cluster, "drift_tx")
    assert cluster.query("SELECT id, note FROM drift_out ORDER BY id") == [(1, "a"), (2, "b")]
    assert cluster.scalar("SELECT count(*) FROM drift_tx") == 0


def test_drift_loads_exactly_once_through_kill_9_and_immediate_shutdown(cluster, data_dir):
    new_source(cluster, data_dir, "drift_crash", "id bigint PRIMARY KEY, note text, extra jsonb",
               True, batch_size=300,
               options='{"on_new_columns": "rescue", "rescue_column": "extra"}')
    files, rows = 30, 3000

    def produce():
        for n in range(files):
            header = "id,note,colour" if n % 2 else "id,note"
            write_csv_atomically(data_dir, f"part_{n:03d}.csv", header, [
                f"{n * rows + i},n{i}" + (f",c{i}" if n % 2 else "") for i in range(rows)])
            time.sleep(0.05)

    producer = threading.Thread(target=produce)
    producer.start()
    rng = random.Random(7)
    killed = set()
    for _ in range(4):
        time.sleep(rng.uniform(0.1, 0.4))
        victims, restarted = cluster.kill_workers("drift_crash")
        killed.update(victims)
        assert not killed & set(restarted)
    cluster.stop("immediate")
    cluster.start()
    assert cluster.worker_pid("drift_crash") not in killed
    producer.join()
    wait_idle(cluster, "drift_crash", "300s")
    total = files * rows
    assert cluster.query("SELECT count(*), count(DISTINCT id), count(extra), "
                         "count(DISTINCT extra->>'colour') FROM drift_crash") == [
        (total, total, total // 2, rows)]
    assert cluster.query("SELECT count(*), sum(rows_loaded) FROM ingest.files "
                         "WHERE source = 'drift_crash' AND status = 'done'") == [(files, total)]
    cluster.query("SELECT ingest.stop('drift_crash')")


def test_create_source_refuses_drift_options_the_target_cannot_take(cluster, data_dir):
    cluster.query("CREATE TABLE drift_checks (id bigint, note text, extra text)")

    def create(options):
        return sql_error(cluster, "SELECT ingest.create_source('drift_checks', %s, "
                                  "'drift_checks', options => %s)", (str(data_dir), options))

    assert create('{"on_new_columns": "merge"}') == (
        "22023", 'option "on_new_columns" must be one of fail, ignore, rescue, add')
    assert create('{"on_new_columns": "rescue"}') == (
        "22023", 'option "on_new_columns" = rescue needs option "rescue_column"')
    assert create('{"on_new_columns": "rescue", "rescue_column": "extra"}') == (
        "42804", 'option "rescue_column" names column "extra" of table public.drift_checks, which is '
                 'text, not jsonb')
    assert create('{"on_new_columns": "rescue", "rescue_column": "nope"}') == (
        "42703", 'option "rescue_column" names column "nope", which table public.drift_checks does '
                 'not have')
    cluster.query("CREATE ROLE drifter LOGIN IN ROLE pg_read_server_files")
    cluster.query("GRANT SELECT, INSERT ON drift_checks TO drifter")
    with pytest.raises(psycopg2.Error) as raised:
        as_role(cluster, "drifter", "SELECT ingest.create_source('drift_checks', %s, "
                "'drift_checks', options => %s)", (str(data_dir), '{"on_new_columns": "add"}'))
    assert (raised.value.pgcode, raised.value.diag.message_primary,
            raised.value.diag.message_hint) == (
        "42501", 'option "on_new_columns" = add needs role drifter to own table public.drift_checks',
        "ALTER TABLE public.drift_checks OWNER TO drifter, or choose ignore or rescue.")
    as_role(cluster, "drifter", "SELECT ingest.create_source('drift_checks', %s, "
            "'drift_checks', options => %s)", (str(data_dir), '{"on_new_columns": "ignore"}'))
    with pytest.raises(psycopg2.Error) as raised:
        as_role(cluster, "drifter", "SELECT ingest.alter_source('drift_checks', options => %s)",
                ('{"on_new_columns": "add"}',))
    assert raised.value.diag.message_primary == (
        'option "on_new_columns" = add needs role drifter to own table public.drift_checks')
