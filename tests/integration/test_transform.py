"""Option transform: each micro-batch's rows are a relation `batch` shaped like the target, and
the transform's statements run on it as the owner, in the transaction that records the file's
new offset. A per-minute revenue aggregate therefore stays exactly equal to its raw rows through
kill -9 and an immediate shutdown; rows a destination refuses are found by bisection and
rejected with their line numbers; an error no row caused fails the file until retry_file."""
import json
import random
import subprocess
import threading
import time

import psycopg2
import pytest

from conftest import (EVENTGEN, as_role, new_source, wait_idle, wait_until,
                      write_csv_atomically)

EVENT_COLUMNS = ("event_id uuid, user_id bigint, product_id bigint, event_type text, "
                 "event_time timestamptz, price numeric(12,2), category text, user_device text, "
                 "user_location text")

REVENUE_TRANSFORM = """
WITH raw AS (INSERT INTO public.user_events SELECT * FROM batch
             RETURNING category, event_time, price)
INSERT INTO public.revenue
SELECT category, date_trunc('minute', event_time), count(*), sum(price) FROM raw GROUP BY 1, 2
ON CONFLICT (category, minute) DO UPDATE SET events = revenue.events + excluded.events,
                                             amount = revenue.amount + excluded.amount
"""


def sql_error(cluster, sql, params=None):
    with pytest.raises(psycopg2.Error) as raised:
        cluster.query(sql, params)
    return raised.value.pgcode, raised.value.diag.message_primary


def options(**values):
    return json.dumps(values)


def test_an_aggregate_kept_by_a_transform_survives_kill_9_and_immediate_shutdown(cluster,
                                                                                 data_dir):
    cluster.query(f"CREATE TABLE user_events ({EVENT_COLUMNS}, PRIMARY KEY (event_id))")
    cluster.query("CREATE TABLE revenue (category text, minute timestamptz, events bigint, "
                  "amount numeric, PRIMARY KEY (category, minute))")
    new_source(cluster, data_dir, "events_in", EVENT_COLUMNS, True, pattern="user_events_*.csv",
               batch_size=2000, options=options(transform=REVENUE_TRANSFORM))
    files, events = 8, 30000
    producer = subprocess.Popen([str(EVENTGEN), "--out", str(data_dir), "--files", str(files),
                                 "--events", str(events), "--interval", "0.4"],
                                stdout=subprocess.DEVNULL)
    rng = random.Random(17)
    killed = set()
    for _ in range(6):
        time.sleep(rng.uniform(0.1, 0.5))
        victims, restarted = cluster.kill_workers("events_in")
        killed.update(victims)
        assert not killed & set(restarted)
    cluster.stop("immediate")
    cluster.start()
    assert cluster.worker_pid("events_in") not in killed
    assert producer.wait(60) == 0
    wait_idle(cluster, "events_in", "300s")
    total = files * events
    assert cluster.query("SELECT count(*), sum(rows_loaded), sum(rows_rejected) FROM ingest.files "
                         "WHERE source = 'events_in' AND status = 'done'") == [(files, total, 0)]
    assert cluster.query("SELECT count(*), count(DISTINCT event_id) FROM user_events") == [
        (total, total)]
    # With a transform, pg_ingest inserts nothing into the target itself.
    assert cluster.scalar("SELECT count(*) FROM events_in") == 0
    assert cluster.scalar("SELECT sum(events) FROM revenue") == total
    assert cluster.query("""
        SELECT count(*) FROM revenue r FULL JOIN (
            SELECT category, date_trunc('minute', event_time) AS minute, count(*) AS events,
                   sum(price) AS amount FROM user_events GROUP BY 1, 2) g USING (category, minute)
        WHERE r.events IS DISTINCT FROM g.events OR r.amount IS DISTINCT FROM g.amount""") == [(0,)]
    cluster.query("SELECT ingest.stop('events_in')")


def test_rows_a_destination_refuses_are_rejected_with_their_lines(cluster, data_dir):
    cluster.query("CREATE TABLE checked (id bigint PRIMARY KEY, amount integer "
                  "CONSTRAINT amount_not_negative CHECK (amount >= 0))")
    new_source(cluster, data_dir, "checked_in", "id bigint, amount integer", True,
               batch_size=1000,
               options=options(transform="INSERT INTO checked SELECT * FROM batch"))
    # Every 100th row, 1%, violates the CHECK: line = id + 1 after the header.
    write_csv_atomically(data_dir, "a.csv", "id,amount",
                         [f"{i},{-1 if i % 100 == 0 else i}" for i in range(1, 10001)])
    wait_idle(cluster, "checked_in")
    assert cluster.query("SELECT status, rows_loaded, rows_rejected FROM ingest.files "
                         "WHERE source = 'checked_in'") == [("done", 9900, 100)]
    assert cluster.query("SELECT count(*), count(DISTINCT id), min(amount) FROM checked") == [
        (9900, 9900, 1)]
    rejects = cluster.query("SELECT line_number, raw_line, error, sqlstate FROM ingest.rejects "
                            "WHERE source = 'checked_in' ORDER BY line_number")
    assert rejects == [(i + 1, f"{i},-1",
                        'new row for relation "checked" violates check constraint '
                        '"amount_not_negative"', "23514") for i in range(100, 10001, 100)]
    assert cluster.scalar("SELECT count(*) FROM checked_in") == 0


def test_a_value_the_transform_cannot_compute_rejects_its_line(cluster, data_dir):
    cluster.query("CREATE TABLE ratios (id bigint PRIMARY KEY, ratio numeric)")
    new_source(cluster, data_dir, "ratios_in", "id bigint, divisor integer", True,
               options=options(transform="INSERT INTO ratios SELECT id, 100.0 / divisor "
                                         "FROM batch"))
    # Through COPY, then the span's transform fails and the rows are bisected.
    write_csv_atomically(data_dir, "r.csv", "id,divisor",
                         ["1,4", "2,0", "3,5", "4,x", "5,0", "6,8"])
    wait_idle(cluster, "ratios_in")
    assert cluster.query("SELECT id, ratio FROM ratios ORDER BY id") == [
        (1, 25), (3, 20), (6, 12.5)]
    assert cluster.query("SELECT line_number, error FROM ingest.rejects "
                         "WHERE source = 'ratios_in' ORDER BY line_number") == [
        (3, "division by zero"),
        (5, 'invalid input syntax for type integer: "x"'),
        (6, "division by zero")]
    assert cluster.query("SELECT rows_loaded, rows_rejected FROM ingest.files "
                         "WHERE source = 'ratios_in'") == [(3, 3)]


def test_an_error_no_row_caused_fails_the_file_and_retry_file_completes_it_once(cluster,
                                                                                data_dir):
    cluster.query("CREATE ROLE mover LOGIN IN ROLE pg_read_server_files")
    cluster.query("CREATE TABLE moved (id bigint PRIMARY KEY, note text)")
    cluster.query("GRANT SELECT ON moved TO mover")
    cluster.query("CREATE TABLE moved_in (id bigint, note text)")
    cluster.query("GRANT INSERT, SELECT ON moved_in TO mover")
    as_role(cluster, "mover", "SELECT ingest.create_source('moved_in', %s, 'moved_in', "
            "options => %s)", (str(data_dir), options(transform="SELECT count(*) FROM batch")))
    # The transform that writes is set while the owner may not insert: create_source plans it,
    # which only checks that it parses and its relations exist.
    cluster.query("UPDATE ingest.sources SET options = options || %s WHERE name = 'moved_in'",
                  (options(transform="INSERT INTO moved SELECT * FROM batch"),))
    as_role(cluster, "mover", "SELECT ingest.start('moved_in')")
    write_csv_atomically(data_dir, "a.csv", "id,note", [f"{i},a{i}" for i in range(1, 501)])
    wait_idle(cluster, "moved_in")
    assert cluster.query("SELECT status, rows_loaded, rows_rejected, error FROM ingest.files "
                         "WHERE source = 'moved_in'") == [
        ("failed", 0, 0, 'source "moved_in", file "a.csv", line 2: permission denied for table '
                         'moved')]
    assert cluster.scalar("SELECT count(*) FROM ingest.rejects WHERE source = 'moved_in'") == 0
    cluster.query("GRANT INSERT ON moved TO mover")
    cluster.query("SELECT ingest.retry_file('moved_in', 'a.csv')")
    wait_idle(cluster, "moved_in")
    assert cluster.query("SELECT status, rows_loaded, rows_rejected FROM ingest.files "
                         "WHERE source = 'moved_in'") == [("done", 500, 0)]
    assert cluster.query("SELECT count(*), count(DISTINCT id) FROM moved") == [(500, 500)]

    # A dropped destination fails the next file the same way.
    cluster.query("DROP TABLE moved")
    write_csv_atomically(data_dir, "b.csv", "id,note", [f"{i},b{i}" for i in range(501, 601)])
    wait_until(lambda: cluster.query("SELECT status, error FROM ingest.files WHERE source = "
                                     "'moved_in' AND file_name = 'b.csv' AND status = 'failed'"),
               60, "b.csv failed")
    assert cluster.scalar("SELECT error FROM ingest.files WHERE file_name = 'b.csv' "
                          "AND source = 'moved_in'") == \
        'source "moved_in", file "b.csv", line 2: relation "moved" does not exist'
    cluster.query("CREATE TABLE moved (id bigint PRIMARY KEY, note text)")
    cluster.query("GRANT SELECT, INSERT ON moved TO mover")
    cluster.query("SELECT ingest.retry_file('moved_in', 'b.csv')")
    wait_idle(cluster, "moved_in")
    assert cluster.query("SELECT count(*), count(DISTINCT id), min(id) FROM moved") == [
        (100, 100, 501)]
    as_role(cluster, "mover", "SELECT ingest.stop('moved_in')")


def test_a_transform_runs_as_the_owner_with_the_owners_settings(cluster, data_dir):
    cluster.query("CREATE ROLE shaper LOGIN IN ROLE pg_read_server_files")
    cluster.query("CREATE SCHEMA shaped AUTHORIZATION shaper")
    cluster.query("ALTER ROLE shaper SET search_path = shaped")
    as_role(cluster, "shaper", "CREATE TABLE shaped.seen (id bigint, who text, path text)")
    as_role(cluster, "shaper", "CREATE TABLE shaped.shape_in (id bigint)")
    # Unqualified names resolve in the owner's search_path; `batch` is the worker's temporary
    # table whatever that path says.
    as_role(cluster, "shaper", "SELECT ingest.create_source('shape_in', %s, 'shaped.shape_in', "
            "options => %s)", (str(data_dir), options(
                transform="INSERT INTO seen SELECT id, current_user, current_setting("
                          "'search_path') FROM batch")))
    as_role(cluster, "shaper", "SELECT ingest.start('shape_in')")
    write_csv_atomically(data_dir, "s.csv", "id", ["1", "2"])
    wait_idle(cluster, "shape_in")
    assert cluster.query("SELECT id, who, path FROM shaped.seen ORDER BY id") == [
        (1, "shaper", "shaped"), (2, "shaper", "shaped")]
    as_role(cluster, "shaper", "SELECT ingest.stop('shape_in')")


def test_create_and_alter_source_plan_the_transform_up_front(cluster, data_dir):
    cluster.query("CREATE TABLE planned (id bigint, note text)")

    def create(transform):
        return sql_error(cluster, "SELECT ingest.create_source('planned', %s, 'planned', "
                                  "options => %s)", (str(data_dir), options(transform=transform)))

    assert create("INSERT INTO planned SELEC * FROM batch") == (
        "42601", 'option "transform" does not plan against table public.planned: syntax error '
                 'at or near "SELEC"')
    assert create("INSERT INTO nowhere SELECT * FROM batch") == (
        "42P01", 'option "transform" does not plan against table public.planned: relation '
                 '"nowhere" does not exist')
    assert create("INSERT INTO planned SELECT id, nothing FROM batch") == (
        "42703", 'option "transform" does not plan against table public.planned: column '
                 '"nothing" does not exist')
    assert create("  ") == (
        "22023", 'option "transform" must be null or SQL statements that read the relation '
                 '"batch"')
    assert cluster.scalar("SELECT count(*) FROM ingest.sources WHERE name = 'planned'") == 0
    # Nothing of the check stays behind in the calling session.
    assert cluster.scalar("SELECT to_regclass('pg_temp.batch')") is None
    cluster.query("SELECT ingest.create_source('planned', %s, 'planned', options => %s)",
                  (str(data_dir), options(transform="INSERT INTO planned SELECT * FROM batch; "
                                                    "SELECT count(*) FROM batch")))
    assert sql_error(cluster, "SELECT ingest.alter_source('planned', options => %s)",
                     (options(transform="DELETE FROM gone"),)) == (
        "42P01", 'option "transform" does not plan against table public.planned: relation '
                 '"gone" does not exist')
    cluster.query("CREATE ROLE no_temp LOGIN IN ROLE pg_read_server_files")
    cluster.query("REVOKE TEMPORARY ON DATABASE postgres FROM PUBLIC")
    try:
        cluster.query("CREATE TABLE no_temp_in (id bigint)")
        cluster.query("GRANT SELECT, INSERT ON no_temp_in TO no_temp")
        with pytest.raises(psycopg2.Error) as raised:
            as_role(cluster, "no_temp", "SELECT ingest.create_source('no_temp_in', %s, "
                    "'no_temp_in', options => %s)",
                    (str(data_dir), options(transform="SELECT * FROM batch")))
        assert raised.value.diag.message_primary == (
            'role no_temp may not create temporary tables in database postgres, which option '
            '"transform" needs for its table "batch"')
        assert raised.value.diag.message_hint == "GRANT TEMPORARY ON DATABASE postgres TO no_temp"
    finally:
        cluster.query("GRANT TEMPORARY ON DATABASE postgres TO PUBLIC")


def test_recipes_dedupe_counts_what_it_drops_routing_and_enrichment(cluster, data_dir):
    """The recipes of docs/processing.md on small files: repeats across files are dropped and
    counted, rows routed by event_type, and enriched from a lookup table."""
    cluster.query("CREATE TABLE kept_events (event_id bigint PRIMARY KEY, event_type text, "
                  "product_id bigint)")
    cluster.query("CREATE TABLE events_dropped (at timestamptz, batch_rows bigint, dropped bigint)")
    cluster.query("CREATE TABLE purchases (event_id bigint, product_id bigint)")
    cluster.query("CREATE TABLE views (event_id bigint, product_id bigint)")
    cluster.query("CREATE TABLE products (product_id bigint PRIMARY KEY, name text)")
    cluster.query("INSERT INTO products VALUES (1, 'lamp'), (2, 'desk')")
    cluster.query("CREATE TABLE enriched (event_id bigint, product_name text)")
    transform = """
        WITH kept AS (INSERT INTO public.kept_events SELECT * FROM batch
                      ON CONFLICT (event_id) DO NOTHING RETURNING 1)
        INSERT INTO public.events_dropped
        SELECT now(), (SELECT count(*) FROM batch), (SELECT count(*) FROM batch) - count(*)
        FROM kept;
        INSERT INTO public.purchases SELECT event_id, product_id FROM batch
            WHERE event_type = 'purchase';
        INSERT INTO public.views SELECT event_id, product_id FROM batch WHERE event_type = 'view';
        INSERT INTO public.enriched SELECT b.event_id, p.name
            FROM batch b LEFT JOIN public.products p USING (product_id)"""
    new_source(cluster, data_dir, "recipes", "event_id bigint, event_type text, product_id bigint",
               True, options=options(transform=transform))
    write_csv_atomically(data_dir, "a.csv", "event_id,event_type,product_id",
                         ["1,view,1", "2,purchase,2", "3,view,3"])
    wait_idle(cluster, "recipes")
    # b.csv repeats events 2 and 3 (and 4 twice within itself).
    write_csv_atomically(data_dir, "b.csv", "event_id,event_type,product_id",
                         ["2,purchase,2", "3,view,3", "4,purchase,1", "4,purchase,1"])
    wait_idle(cluster, "recipes")
    assert cluster.query("SELECT file_name, rows_loaded, rows_rejected FROM ingest.files "
                         "WHERE source = 'recipes' ORDER BY file_name") == [
        ("a.csv", 3, 0), ("b.csv", 4, 0)]
    assert cluster.query("SELECT event_id FROM kept_events ORDER BY 1") == [(1,), (2,), (3,), (4,)]
    assert cluster.query("SELECT batch_rows, dropped FROM events_dropped ORDER BY at") == [
        (3, 0), (4, 3)]
    assert cluster.query("SELECT count(*), count(DISTINCT event_id) FROM purchases") == [(4, 2)]
    assert cluster.query("SELECT count(*), count(DISTINCT event_id) FROM views") == [(3, 2)]
    assert cluster.query("SELECT event_id, product_name FROM enriched ORDER BY 1, 2") == [
        (1, "lamp"), (2, "desk"), (2, "desk"), (3, None), (3, None), (4, "lamp"), (4, "lamp")]
    assert cluster.scalar("SELECT count(*) FROM recipes") == 0
    cluster.query("SELECT ingest.stop('recipes')")


def test_replay_file_is_refused_for_a_source_with_a_transform(cluster, data_dir):
    cluster.query("CREATE TABLE replayed_out (id bigint, _file bigint)")
    new_source(cluster, data_dir, "replayed", "id bigint, _file bigint", True,
               options=options(file_column="_file",
                               transform="INSERT INTO replayed_out SELECT * FROM batch"))
    write_csv_atomically(data_dir, "a.csv", "id", ["1", "2"])
    wait_idle(cluster, "replayed")
    assert cluster.scalar("SELECT count(DISTINCT _file) FROM replayed_out WHERE _file = "
                          "(SELECT file_id FROM ingest.files WHERE source = 'replayed')") == 1
    assert sql_error(cluster, "SELECT ingest.replay_file('replayed', 'a.csv')") == (
        "55000", 'source "replayed" has a transform: replay_file cannot undo what it did with '
                 "the file's rows")
    cluster.query("SELECT ingest.stop('replayed')")


def test_an_owner_without_temporary_fails_the_file_naming_the_grant(cluster, data_dir):
    cluster.query("CREATE ROLE temp_lost LOGIN IN ROLE pg_read_server_files")
    cluster.query("CREATE TABLE temp_lost_out (id bigint)")
    cluster.query("CREATE TABLE temp_lost_in (id bigint)")
    cluster.query("GRANT SELECT, INSERT ON temp_lost_in, temp_lost_out TO temp_lost")
    as_role(cluster, "temp_lost", "SELECT ingest.create_source('temp_lost_in', %s, "
            "'temp_lost_in', options => %s)",
            (str(data_dir), options(transform="INSERT INTO temp_lost_out SELECT * FROM batch")))
    cluster.query("REVOKE TEMPORARY ON DATABASE postgres FROM PUBLIC")
    try:
        as_role(cluster, "temp_lost", "SELECT ingest.start('temp_lost_in')")
        write_csv_atomically(data_dir, "a.csv", "id", ["1", "2"])
        wait_idle(cluster, "temp_lost_in")
        assert cluster.query("SELECT status, error FROM ingest.files "
                             "WHERE source = 'temp_lost_in'") == [
            ("failed", 'source "temp_lost_in", file "a.csv": role "temp_lost" may not create '
                       'temporary tables in database "postgres", which option transform needs '
                       'for its table "batch": GRANT TEMPORARY ON DATABASE postgres TO temp_lost')]
    finally:
        cluster.query("GRANT TEMPORARY ON DATABASE postgres TO PUBLIC")
    cluster.query("SELECT ingest.retry_file('temp_lost_in', 'a.csv')")
    wait_idle(cluster, "temp_lost_in")
    assert cluster.query("SELECT count(*), count(DISTINCT id) FROM temp_lost_out") == [(2, 2)]
    as_role(cluster, "temp_lost", "SELECT ingest.stop('temp_lost_in')")


def test_transform_rejects_are_exactly_once_through_kill_9_and_immediate_shutdown(cluster,
                                                                                  data_dir):
    cluster.query("CREATE TABLE checked_crash (id bigint PRIMARY KEY, amount integer "
                  "CHECK (amount >= 0))")
    new_source(cluster, data_dir, "checked_crash_in", "id bigint, amount integer", True,
               batch_size=500,
               options=options(transform="INSERT INTO checked_crash SELECT * FROM batch"))
    files, rows = 24, 5000

    def produce():
        for n in range(files):
            write_csv_atomically(data_dir, f"part_{n:03d}.csv", "id,amount", [
                f"{n * rows + i},{-1 if i % 100 == 0 else i}" for i in range(rows)])
            time.sleep(0.05)

    producer = threading.Thread(target=produce)
    producer.start()
    rng = random.Random(71)
    killed = set()
    for _ in range(4):
        time.sleep(rng.uniform(0.1, 0.4))
        victims, restarted = cluster.kill_workers("checked_crash_in")
        killed.update(victims)
        assert not killed & set(restarted)
    cluster.stop("immediate")
    cluster.start()
    assert cluster.worker_pid("checked_crash_in") not in killed
    producer.join()
    wait_idle(cluster, "checked_crash_in", "300s")
    refused = files * rows // 100
    assert cluster.query("SELECT count(*), count(DISTINCT id) FROM checked_crash") == [
        (files * rows - refused, files * rows - refused)]
    assert cluster.query("SELECT count(*), count(DISTINCT (file_name, line_number)), "
                         "count(*) FILTER (WHERE line_number % 100 <> 2) FROM ingest.rejects "
                         "WHERE source = 'checked_crash_in'") == [(refused, refused, 0)]
    assert cluster.query("SELECT count(*), sum(rows_loaded), sum(rows_rejected) FROM ingest.files "
                         "WHERE source = 'checked_crash_in' AND status = 'done'") == [
        (files, files * rows - refused, refused)]
    cluster.query("SELECT ingest.stop('checked_crash_in')")
