"""Bad input: every line ends up in the target or in ingest.rejects, and the stream keeps flowing."""
import json

import psycopg2
import pytest

from conftest import eventgen, eventgen_ddl, wait_idle, wait_until, write_csv_atomically

# What each kind of bad line written by eventgen is refused with: (SQLSTATE, start of the error).
EXPECTED_REFUSAL = {
    "wrong_column_count": ("22P04", "expected 9 fields, found "),
    "non_numeric_id": ("22P02", "invalid input syntax for type bigint"),
    "bad_timestamp": (None, None),
    "bad_price": ("22P02", "invalid input syntax for type numeric"),
    "duplicate_event_id": ("23505", "duplicate key value violates unique constraint"),
    "invalid_utf8": ("22P04", "invalid UTF-8 byte sequence"),
    "unterminated_quote": ("22P04", "unterminated quoted field"),
}


def test_generator_bad_rows_match_the_manifest_kind_by_kind(cluster, data_dir):
    cluster.query("CREATE SCHEMA dirty")
    cluster.query(eventgen_ddl().replace("user_events", "dirty.user_events", 1))
    cluster.query("SELECT ingest.create_source('dirty', %s, 'dirty.user_events', "
                  "'user_events_*.csv')", (str(data_dir),))
    cluster.query("SELECT ingest.start('dirty')")
    eventgen(data_dir, "--files", 10, "--events", 30000, "--bad-rows", 0.01)
    wait_idle(cluster, "dirty", "300s")

    total_good = 0
    for manifest_path in sorted(data_dir.glob("*.manifest.json")):
        manifest = json.loads(manifest_path.read_text())
        name = manifest["file"]
        [(status, loaded, rejected)] = cluster.query(
            "SELECT status, rows_loaded, rows_rejected FROM ingest.files WHERE file_name = %s", (name,))
        assert status == "done"
        assert loaded + rejected == manifest["data_lines"] == 30000
        assert loaded == manifest["good_lines"]
        assert rejected == manifest["bad_lines"]
        refused = {line: (sqlstate, error) for line, sqlstate, error in cluster.query(
            "SELECT line_number, sqlstate, error FROM ingest.rejects WHERE file_name = %s", (name,))}
        expected_lines = set()
        for kind, details in manifest["bad"].items():
            assert details["count"] == len(details["lines"])
            for line in details["lines"]:
                expected_lines.add(line)
                sqlstate, error = refused[line]
                want_state, want_error = EXPECTED_REFUSAL[kind]
                if want_state is None:  # timestamps fail with one of the datetime SQLSTATEs
                    assert sqlstate.startswith("22"), (kind, line, sqlstate, error)
                    continue
                assert sqlstate == want_state, (kind, line, sqlstate, error)
                assert error.startswith(want_error), (kind, line, error)
        assert set(refused) == expected_lines
        total_good += manifest["good_lines"]
    assert total_good > 0
    assert cluster.query("SELECT count(*), count(DISTINCT event_id) FROM dirty.user_events") == [
        (total_good, total_good)]
    cluster.query("SELECT ingest.stop('dirty')")


def test_refused_rows_keep_their_raw_line_and_the_good_rows_load(cluster, data_dir):
    cluster.query("CREATE TABLE mixed (id bigint PRIMARY KEY, amount numeric CHECK (amount >= 0), "
                  "note text NOT NULL)")
    cluster.query("SELECT ingest.create_source('mixed', %s, 'mixed', batch_size => 4)",
                  (str(data_dir),))
    cluster.query("SELECT ingest.start('mixed')")
    (data_dir / ".m.tmp").write_bytes(
        b"id,amount,note\r\n1,10,ok\r\n2,-1,negative\r\n3,x,bad number\r\n4,5,\r\n\r\n"
        b"5,1,\"multi\nline\"\r\n1,3,duplicate\r\n6,2,caf\xe9\r\n7,7,last")
    (data_dir / ".m.tmp").rename(data_dir / "m.csv")
    wait_idle(cluster, "mixed")
    assert cluster.query("SELECT id, amount, note FROM mixed ORDER BY id") == [
        (1, 10, "ok"), (5, 1, "multi\nline"), (7, 7, "last")]
    assert cluster.query("SELECT line_number, raw_line, sqlstate, error FROM ingest.rejects "
                         "WHERE source = 'mixed' ORDER BY line_number") == [
        (3, "2,-1,negative", "23514",
         'new row for relation "mixed" violates check constraint "mixed_amount_check"'),
        (4, "3,x,bad number", "22P02", 'invalid input syntax for type numeric: "x"'),
        (5, "4,5,", "23502", 'null value in column "note" of relation "mixed" violates not-null constraint'),
        (6, "", "22P04", "blank line"),
        (9, "1,3,duplicate", "23505", 'duplicate key value violates unique constraint "mixed_pkey"'),
        (10, "6,2,caf\\xe9", "22P04", "invalid UTF-8 byte sequence 0xe9 at column 3 "
         "(raw_line has bytes the database encoding cannot hold, shown as \\xNN)"),
    ]
    assert cluster.query("SELECT rows_loaded, rows_rejected, line_number FROM ingest.files "
                         "WHERE source = 'mixed'") == [(3, 6, 11)]
    cluster.query("SELECT ingest.stop('mixed')")


def test_header_naming_unknown_columns_fails_the_file_and_the_next_loads(cluster, data_dir):
    cluster.query("CREATE TABLE named (id bigint, note text DEFAULT 'none')")
    cluster.query("SELECT ingest.create_source('named', %s, 'named')", (str(data_dir),))
    cluster.query("SELECT ingest.start('named')")
    write_csv_atomically(data_dir, "a.csv", "id,colour,shape", ["1,red,round"])
    write_csv_atomically(data_dir, "b.csv", "id", ["2", "3"])
    wait_idle(cluster, "named")
    assert cluster.query("SELECT file_name, status, error FROM ingest.files WHERE source = 'named' "
                         "ORDER BY file_name") == [
        ("a.csv", "failed",
         'source "named", file "a.csv": header of file "a.csv" names columns that table '
         "public.named does not have: colour, shape"),
        ("b.csv", "done", None)]
    assert cluster.query("SELECT id, note FROM named ORDER BY id") == [(2, "none"), (3, "none")]
    cluster.query("SELECT ingest.stop('named')")


def test_max_rejects_fails_the_file_keeping_committed_rows(cluster, data_dir):
    cluster.query("CREATE TABLE capped (id bigint PRIMARY KEY)")
    cluster.query("SELECT ingest.create_source('capped', %s, 'capped', batch_size => 2, "
                  "options => '{\"max_rejects_per_file\": 1}')", (str(data_dir),))
    cluster.query("SELECT ingest.start('capped')")
    write_csv_atomically(data_dir, "a.csv", "id", ["1", "2", "x", "3", "y", "4"])
    write_csv_atomically(data_dir, "b.csv", "id", ["10"])
    wait_idle(cluster, "capped")
    assert cluster.query("SELECT file_name, status, rows_loaded, rows_rejected, line_number, error "
                         "FROM ingest.files WHERE source = 'capped' ORDER BY file_name") == [
        ("a.csv", "failed", 3, 1, 5,
         'source "capped", file "a.csv", line 6: file "a.csv" has more than 1 rejected lines '
         "(max_rejects_per_file)"),
        ("b.csv", "done", 1, 0, 2, None)]
    assert cluster.query("SELECT id FROM capped ORDER BY id") == [(1,), (2,), (3,), (10,)]
    cluster.query("SELECT ingest.stop('capped')")


def test_retry_and_skip_after_a_file_level_failure(cluster, data_dir):
    cluster.query("CREATE TABLE retried (id bigint PRIMARY KEY)")
    cluster.query("SELECT ingest.create_source('retried', %s, 'retried')", (str(data_dir),))
    cluster.query("SELECT ingest.start('retried')")
    write_csv_atomically(data_dir, "locked.csv", "id", ["1", "2"])
    write_csv_atomically(data_dir, "hopeless.csv", "nope", ["1"])
    # Written by root with no read permission for anyone else: the server cannot open it.
    (data_dir / "locked.csv").chmod(0o000)
    wait_idle(cluster, "retried")
    assert cluster.query("SELECT file_name, status, error FROM ingest.files WHERE source = 'retried' "
                         "ORDER BY file_name") == [
        ("hopeless.csv", "failed",
         'source "retried", file "hopeless.csv": header of file "hopeless.csv" names columns '
         "that table public.retried does not have: nope"),
        ("locked.csv", "failed",
         f'source "retried", file "locked.csv": could not open file "{data_dir}/locked.csv": '
         "Permission denied")]
    (data_dir / "locked.csv").chmod(0o644)
    cluster.query("SELECT ingest.retry_file('retried', 'locked.csv')")
    cluster.query("SELECT ingest.skip_file('retried', 'hopeless.csv')")
    wait_idle(cluster, "retried")
    assert cluster.query("SELECT file_name, status, rows_loaded FROM ingest.files "
                         "WHERE source = 'retried' ORDER BY file_name") == [
        ("hopeless.csv", "skipped", 0), ("locked.csv", "done", 2)]
    assert cluster.query("SELECT id FROM retried ORDER BY id") == [(1,), (2,)]
    with pytest.raises(psycopg2.Error) as error:
        cluster.query("SELECT ingest.retry_file('retried', 'locked.csv')")
    assert error.value.diag.message_primary == 'file "locked.csv" of source "retried" is done, not failed or skipped'
    with pytest.raises(psycopg2.Error) as error:
        cluster.query("SELECT ingest.skip_file('retried', 'missing.csv')")
    assert error.value.diag.message_primary == 'source "retried" has no file "missing.csv"'
    cluster.query("SELECT ingest.stop('retried')")


def test_old_rejects_are_purged_by_the_worker(cluster, data_dir):
    cluster.query("CREATE TABLE aged (id bigint)")
    cluster.query("SELECT ingest.create_source('aged', %s, 'aged')", (str(data_dir),))
    cluster.query("INSERT INTO ingest.rejects (source, file_name, line_number, byte_offset, raw_line, "
                  "error, rejected_at) VALUES "
                  "('aged', 'old.csv', 2, 10, 'x', 'old', now() - interval '8 days'), "
                  "('aged', 'new.csv', 2, 10, 'y', 'recent', now() - interval '6 days')")
    cluster.query("SELECT ingest.start('aged')")
    cluster.worker_pid("aged")
    wait_idle(cluster, "aged")
    wait_until(lambda: cluster.scalar("SELECT count(*) FROM ingest.rejects WHERE source = 'aged'")
               == 1, 10, "the purge of the old reject")
    assert cluster.query("SELECT file_name FROM ingest.rejects WHERE source = 'aged'") == [("new.csv",)]
    cluster.query("SELECT ingest.stop('aged')")


def add_reject(cluster, source, file_name, age):
    cluster.query("INSERT INTO ingest.rejects (source, file_name, line_number, byte_offset, "
                  "raw_line, error, rejected_at) VALUES (%s, %s, 2, 10, 'x', 'refused', "
                  "now() - %s::interval)", (source, file_name, age))


def wait_for_rejects(cluster, source, file_names):
    wait_until(lambda: [name for (name,) in cluster.query(
        "SELECT file_name FROM ingest.rejects WHERE source = %s ORDER BY file_name",
        (source,))] == file_names, 10, f"the rejects of {source} to be {file_names}")


def test_rejects_retention_applies_on_reload_and_when_the_worker_starts(cluster, data_dir):
    cluster.query("CREATE TABLE retained (id bigint)")
    cluster.query("SELECT ingest.create_source('retained', %s, 'retained')", (str(data_dir),))
    cluster.query("SELECT ingest.start('retained')")
    cluster.worker_pid("retained")
    add_reject(cluster, "retained", "two_hours.csv", "2 hours")
    add_reject(cluster, "retained", "half_an_hour.csv", "30 minutes")
    wait_idle(cluster, "retained")
    assert cluster.scalar("SELECT count(*) FROM ingest.rejects WHERE source = 'retained'") == 2
    try:
        # A reload purges at once with the new retention, not at the next hourly purge.
        cluster.query("ALTER SYSTEM SET pg_ingest.rejects_retention = '1h'")
        cluster.query("SELECT pg_reload_conf()")
        wait_for_rejects(cluster, "retained", ["half_an_hour.csv"])

        cluster.query("SELECT ingest.stop('retained')")
        wait_until(lambda: cluster.workers("retained") == [], 60, "the worker to exit")
        add_reject(cluster, "retained", "ninety_minutes.csv", "90 minutes")
        add_reject(cluster, "retained", "fifty_minutes.csv", "50 minutes")
        cluster.query("SELECT ingest.start('retained')")
        wait_for_rejects(cluster, "retained", ["fifty_minutes.csv", "half_an_hour.csv"])
    finally:
        cluster.query("ALTER SYSTEM RESET pg_ingest.rejects_retention")
        cluster.query("SELECT pg_reload_conf()")
    cluster.query("SELECT ingest.stop('retained')")


CORPUS = {
    # name: (bytes, rows loaded (id, note), rejected line numbers)
    "empty": (b"", [], []),
    "header_only": (b"id,note\n", [], []),
    "bom_crlf": (b"\xef\xbb\xbfid,note\r\n1,a\r\n2,b\r\n", [(1, "a"), (2, "b")], []),
    "no_final_newline": (b"id,note\n1,a\n2,b", [(1, "a"), (2, "b")], []),
    "trailing_delimiter": (b"id,note\n1,a,\n2,b\n", [(2, "b")], [2]),
    "nul_byte": (b"id,note\n1,a\x00b\n2,b\n", [(2, "b")], [2]),
    "unterminated_quote": (b"id,note\n1,a\n2,\"never closed\n3,c\n", [(1, "a")], [3]),
    "oversized_field": (b"id,note\n1," + b"x" * (10 << 20) + b"\n2,b\n", [(2, "b")], [2]),
    "half_bad": (b"id,note\n" + b"".join(
        (f"{i},ok\n" if i % 2 else f"x{i},bad\n").encode() for i in range(1, 201)),
        [(i, "ok") for i in range(1, 201, 2)], list(range(3, 202, 2))),
    "quoted_empty_vs_null": (b"id,note\n1,\"\"\n2,\n", [(1, ""), (2, None)], []),
}


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_malformed_file_corpus(cluster, data_dir, case):
    content, rows, rejected_lines = CORPUS[case]
    table = f"corpus_{case}"
    cluster.query(f"CREATE TABLE {table} (id bigint PRIMARY KEY, note text)")
    cluster.query("SELECT ingest.create_source(%s, %s, %s, batch_size => 16)",
                  (table, str(data_dir), table))
    cluster.query("SELECT ingest.start(%s)", (table,))
    (data_dir / ".f.tmp").write_bytes(content)
    (data_dir / ".f.tmp").rename(data_dir / "f.csv")
    wait_idle(cluster, table)
    assert cluster.query("SELECT status, rows_loaded, rows_rejected FROM ingest.files WHERE source = %s",
                         (table,)) == [("done", len(rows), len(rejected_lines))]
    assert cluster.query(f"SELECT id, note FROM {table} ORDER BY id") == rows
    assert [line for (line,) in cluster.query(
        "SELECT line_number FROM ingest.rejects WHERE source = %s ORDER BY line_number",
        (table,))] == rejected_lines
    cluster.query("SELECT ingest.stop(%s)", (table,))


def test_foreign_key_and_trigger_refusals_are_quarantined(cluster, data_dir):
    cluster.query("CREATE TABLE kinds (kind text PRIMARY KEY)")
    cluster.query("INSERT INTO kinds VALUES ('view'), ('purchase')")
    cluster.query("CREATE TABLE checked (id bigint PRIMARY KEY, kind text REFERENCES kinds)")
    cluster.query("""CREATE FUNCTION no_thirteen() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.id = 13 THEN RAISE EXCEPTION 'unlucky id %', NEW.id USING ERRCODE = 'P0013'; END IF;
            RETURN NEW;
        END $$""")
    cluster.query("CREATE TRIGGER no_thirteen BEFORE INSERT ON checked "
                  "FOR EACH ROW EXECUTE FUNCTION no_thirteen()")
    cluster.query("SELECT ingest.create_source('checked', %s, 'checked')", (str(data_dir),))
    cluster.query("SELECT ingest.start('checked')")
    write_csv_atomically(data_dir, "k.csv", "id,kind", ["1,view", "2,refund", "13,view", "4,purchase"])
    wait_idle(cluster, "checked")
    assert cluster.query("SELECT id, kind FROM checked ORDER BY id") == [(1, "view"), (4, "purchase")]
    assert cluster.query("SELECT line_number, sqlstate, error FROM ingest.rejects "
                         "WHERE source = 'checked' ORDER BY line_number") == [
        (3, "23503", 'insert or update on table "checked" violates foreign key constraint '
                     '"checked_kind_fkey"'),
        (4, "P0013", "unlucky id 13")]
    cluster.query("SELECT ingest.stop('checked')")
