"""Every statement the worker runs on the owner's behalf (COPY, INSERT, and the
triggers and defaults they fire) sees the settings the owner would get at login to the database;
each test compares the worker's result with the owner's own COPY of the same file."""

import psycopg2
import pytest

from conftest import as_role, wait_idle, write_csv_atomically


def owner_session(cluster, role, dbname="postgres"):
    """A session of the owner's own, logged in as the role: PostgreSQL applies its settings."""
    conn = psycopg2.connect(host=str(cluster.dir), port=5432, user=role, dbname=dbname)
    conn.autocommit = True
    return conn


def owner_copy(cluster, role, table, path, dbname="postgres"):
    """The owner's own COPY of a file, into `table` (with a column list when the file has one)."""
    conn = owner_session(cluster, role, dbname)
    try:
        with conn.cursor() as cur:
            cur.execute(f"COPY {table} FROM %s WITH (FORMAT csv, HEADER true)", (str(path),))
    finally:
        conn.close()


def make_owner(cluster, role):
    cluster.query(f"CREATE ROLE {role} LOGIN")
    cluster.query(f"GRANT pg_read_server_files TO {role}")
    cluster.query(f"GRANT CREATE ON SCHEMA public TO {role}")


def test_an_unqualified_name_in_a_trigger_resolves_as_in_the_owners_copy(cluster, data_dir):
    make_owner(cluster, "trig_owner")
    as_role(cluster, "trig_owner", """
        CREATE TABLE who (tbl text, usr text);
        CREATE FUNCTION log_who() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO who VALUES (TG_TABLE_NAME, current_user); RETURN NULL; END $$;
        CREATE TABLE trig_events (id bigint PRIMARY KEY, payload text);
        CREATE TABLE trig_events_copy (LIKE trig_events);
        CREATE TRIGGER t_who AFTER INSERT ON trig_events
            FOR EACH STATEMENT EXECUTE FUNCTION log_who();
        CREATE TRIGGER t_who AFTER INSERT ON trig_events_copy
            FOR EACH STATEMENT EXECUTE FUNCTION log_who();
        SELECT ingest.create_source('trig', %s, 'trig_events')""", (str(data_dir),))
    cluster.query("SELECT ingest.start('trig')")
    write_csv_atomically(data_dir, "a.csv", "id,payload", ["1,x", "2,y", "3,z"])
    wait_idle(cluster, "trig")
    owner_copy(cluster, "trig_owner", "trig_events_copy", data_dir / "a.csv")

    assert cluster.query("SELECT status, error FROM ingest.files WHERE source = 'trig'") == [
        ("done", None)]
    assert cluster.query("SELECT id, payload FROM trig_events ORDER BY id") == cluster.query(
        "SELECT id, payload FROM trig_events_copy ORDER BY id") == [(1, "x"), (2, "y"), (3, "z")]
    assert cluster.query("SELECT tbl, usr FROM who ORDER BY tbl") == [
        ("trig_events", "trig_owner"), ("trig_events_copy", "trig_owner")]
    cluster.query("SELECT ingest.stop('trig')")


SETTINGS_SEEN = ("current_setting('search_path'), current_setting('work_mem'), "
                 "current_setting('lock_timeout'), current_setting('IntervalStyle')")


def test_per_role_settings_reach_triggers_and_defaults_and_changes_apply_at_the_next_file(
        cluster, data_dir):
    make_owner(cluster, "path_owner")
    cluster.query("CREATE SCHEMA app AUTHORIZATION path_owner")
    as_role(cluster, "path_owner", f"""
        CREATE TABLE app.audit (tbl text, seen text[]);
        CREATE FUNCTION app.note_settings() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO audit VALUES (TG_TABLE_NAME, ARRAY[{SETTINGS_SEEN}]);
            RETURN NULL;
        END $$;
        CREATE TABLE app.path_events (
            id bigint PRIMARY KEY,
            seen text[] DEFAULT ARRAY[{SETTINGS_SEEN}]);
        CREATE TABLE app.path_events_copy (LIKE app.path_events INCLUDING DEFAULTS);
        CREATE TRIGGER t AFTER INSERT ON app.path_events
            FOR EACH STATEMENT EXECUTE FUNCTION app.note_settings();
        CREATE TRIGGER t AFTER INSERT ON app.path_events_copy
            FOR EACH STATEMENT EXECUTE FUNCTION app.note_settings();
        SELECT ingest.create_source('paths', %s, 'app.path_events')""", (str(data_dir),))
    # Resolved as at login: ALTER ROLE ... IN DATABASE wins over ALTER ROLE, which wins over
    # ALTER DATABASE.
    cluster.query("ALTER ROLE path_owner SET search_path = app, public")
    cluster.query("ALTER ROLE path_owner SET work_mem = '5MB'")
    cluster.query("ALTER ROLE path_owner IN DATABASE postgres SET work_mem = '7MB'")
    cluster.query("ALTER DATABASE postgres SET lock_timeout = '41s'")
    cluster.query("ALTER ROLE path_owner SET IntervalStyle = 'iso_8601'")
    try:
        cluster.query("SELECT ingest.start('paths')")
        write_csv_atomically(data_dir, "a.csv", "id", ["1", "2"])
        wait_idle(cluster, "paths")
        owner_copy(cluster, "path_owner", "app.path_events_copy (id)", data_dir / "a.csv")
        expected = ["app, public", "7MB", "41s", "iso_8601"]
        assert cluster.query("SELECT status FROM ingest.files WHERE source = 'paths'") == [
            ("done",)]
        assert cluster.query("SELECT id, seen FROM app.path_events ORDER BY id") == cluster.query(
            "SELECT id, seen FROM app.path_events_copy ORDER BY id") == [
            (1, expected), (2, expected)]
        assert cluster.query("SELECT tbl, seen FROM app.audit ORDER BY tbl") == [
            ("path_events", expected), ("path_events_copy", expected)]

        # A changed setting applies from the next file on, without a restart.
        pid = cluster.worker_pid("paths")
        cluster.query("ALTER ROLE path_owner SET search_path = app, pg_temp, public")
        cluster.query("ALTER ROLE path_owner IN DATABASE postgres RESET work_mem")
        write_csv_atomically(data_dir, "b.csv", "id", ["3"])
        wait_idle(cluster, "paths")
        assert cluster.worker_pid("paths") == pid
        assert cluster.query("SELECT seen FROM app.path_events WHERE id = 3") == [
            (["app, pg_temp, public", "5MB", "41s", "iso_8601"],)]
        # The worker's own catalog statements keep their pinned settings: it still works.
        assert cluster.query("SELECT state, last_error FROM ingest.status "
                             "WHERE source = 'paths'") == [("idle", None)]
    finally:
        cluster.query("ALTER DATABASE postgres RESET lock_timeout")
        cluster.query("SELECT ingest.stop('paths')")


def test_a_zoneless_timestamp_parses_with_the_databases_datestyle_and_timezone(cluster, data_dir):
    cluster.query("CREATE DATABASE zoned")
    cluster.query("ALTER DATABASE zoned SET DateStyle = 'ISO, DMY'")
    cluster.query("ALTER DATABASE zoned SET TimeZone = 'America/New_York'")
    cluster.query("CREATE ROLE zone_owner LOGIN IN ROLE pg_read_server_files")
    cluster.query("CREATE EXTENSION pg_ingest", dbname="zoned")
    cluster.query("GRANT CREATE ON SCHEMA public TO zone_owner", dbname="zoned")
    as_role(cluster, "zone_owner", """
        CREATE TABLE stamps (id int, at timestamptz, day date, local timestamp);
        CREATE TABLE stamps_copy (LIKE stamps);
        SELECT ingest.create_source('stamps', %s, 'stamps')""", (str(data_dir),), dbname="zoned")
    cluster.query("SELECT ingest.start('stamps')", dbname="zoned")
    write_csv_atomically(data_dir, "a.csv", "id,at,day,local",
                         ["1,03/04/2024 10:00:00,03/04/2024,03/04/2024 10:00:00",
                          "2,01/12/2023 23:30:00,01/12/2023,01/12/2023 23:30:00"])
    wait_idle(cluster, "stamps", dbname="zoned")
    owner_copy(cluster, "zone_owner", "stamps_copy", data_dir / "a.csv", dbname="zoned")
    as_utc = ("SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), day::text, "
              "local::text FROM {} ORDER BY id")
    loaded = cluster.query(as_utc.format("stamps"), dbname="zoned")
    assert loaded == cluster.query(as_utc.format("stamps_copy"), dbname="zoned")
    # Day first (DMY), New York time: 3 April 2024 is in daylight time (-4), 1 December not (-5).
    assert loaded == [(1, "2024-04-03 14:00", "2024-04-03", "2024-04-03 10:00:00"),
                      (2, "2023-12-02 04:30", "2023-12-01", "2023-12-01 23:30:00")]
    # One file, one source: a.csv is the next source's once this one is dropped.
    cluster.query("SELECT ingest.drop_source('stamps')", dbname="zoned")

    # Another owner's ALTER ROLE ... IN DATABASE wins over the database's setting, for that owner.
    cluster.query("CREATE ROLE tokyo_owner LOGIN IN ROLE pg_read_server_files")
    cluster.query("GRANT CREATE ON SCHEMA public TO tokyo_owner", dbname="zoned")
    cluster.query("ALTER ROLE tokyo_owner IN DATABASE zoned SET TimeZone = 'Asia/Tokyo'")
    as_role(cluster, "tokyo_owner", """
        CREATE TABLE tokyo_stamps (id int, at timestamptz, day date, local timestamp);
        CREATE TABLE tokyo_stamps_copy (LIKE tokyo_stamps);
        SELECT ingest.create_source('tokyo', %s, 'tokyo_stamps', pattern => 'a.csv')""",
            (str(data_dir),), dbname="zoned")
    cluster.query("SELECT ingest.start('tokyo')", dbname="zoned")
    wait_idle(cluster, "tokyo", dbname="zoned")
    owner_copy(cluster, "tokyo_owner", "tokyo_stamps_copy", data_dir / "a.csv", dbname="zoned")
    loaded = cluster.query(as_utc.format("tokyo_stamps"), dbname="zoned")
    assert loaded == cluster.query(as_utc.format("tokyo_stamps_copy"), dbname="zoned")
    assert loaded == [(1, "2024-04-03 01:00", "2024-04-03", "2024-04-03 10:00:00"),
                      (2, "2023-12-01 14:30", "2023-12-01", "2023-12-01 23:30:00")]
    cluster.query("SELECT ingest.stop('tokyo')", dbname="zoned")


def test_the_owners_statement_timeout_fails_the_file_and_spares_the_worker(cluster, data_dir):
    make_owner(cluster, "slow_owner")
    as_role(cluster, "slow_owner", """
        CREATE FUNCTION linger() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep(5); RETURN NULL; END $$;
        CREATE TABLE slow_events (id bigint PRIMARY KEY);
        CREATE TABLE slow_events_copy (LIKE slow_events);
        CREATE TRIGGER t AFTER INSERT ON slow_events
            FOR EACH STATEMENT EXECUTE FUNCTION linger();
        CREATE TRIGGER t AFTER INSERT ON slow_events_copy
            FOR EACH STATEMENT EXECUTE FUNCTION linger();
        SELECT ingest.create_source('slow', %s, 'slow_events')""", (str(data_dir),))
    cluster.query("ALTER ROLE slow_owner SET statement_timeout = '300ms'")
    cluster.query("SELECT ingest.start('slow')")
    pid = cluster.worker_pid("slow")
    write_csv_atomically(data_dir, "a.csv", "id", ["1", "2"])
    # The COPY times out, then the row path does: the file fails with the timeout's error
    # below, which the trigger's 5 s sleep would never give without the owner's setting.
    wait_idle(cluster, "slow", timeout="60s")

    with pytest.raises(psycopg2.errors.QueryCanceled) as refused:
        owner_copy(cluster, "slow_owner", "slow_events_copy", data_dir / "a.csv")
    assert "canceling statement due to statement timeout" in str(refused.value)
    assert cluster.query("SELECT status, error FROM ingest.files WHERE source = 'slow'") == [
        ("failed", 'source "slow", file "a.csv", line 2: '
                   "canceling statement due to statement timeout")]
    assert cluster.scalar("SELECT count(*) FROM slow_events") == 0
    assert cluster.scalar("SELECT count(*) FROM slow_events_copy") == 0

    # The timeout was the owner's statement's: the worker and its catalog work go on.
    as_role(cluster, "slow_owner", "DROP TRIGGER t ON slow_events")
    write_csv_atomically(data_dir, "b.csv", "id", ["3"])
    wait_idle(cluster, "slow")
    assert cluster.worker_pid("slow") == pid
    assert cluster.query("SELECT file_name, status FROM ingest.files WHERE source = 'slow' "
                         "ORDER BY file_name") == [("a.csv", "failed"), ("b.csv", "done")]
    assert cluster.query("SELECT id FROM slow_events") == [(3,)]
    cluster.query("SELECT ingest.stop('slow')")


def test_settings_of_the_workers_own_session_user_do_not_reach_the_owner(cluster, data_dir):
    make_owner(cluster, "plain_owner")
    as_role(cluster, "plain_owner", f"""
        CREATE TABLE plain_events (id bigint, seen text[] DEFAULT ARRAY[{SETTINGS_SEEN}]);
        CREATE TABLE plain_events_copy (LIKE plain_events INCLUDING DEFAULTS);
        SELECT ingest.create_source('plain', %s, 'plain_events')""", (str(data_dir),))
    # The worker connects as the bootstrap superuser, whose login settings PostgreSQL applies to
    # the worker's session; the owner's login would not have them.
    cluster.query("ALTER ROLE postgres SET lock_timeout = '13s'")
    cluster.query("ALTER ROLE postgres IN DATABASE postgres SET IntervalStyle = 'sql_standard'")
    try:
        cluster.query("SELECT ingest.start('plain')")
        write_csv_atomically(data_dir, "a.csv", "id", ["1"])
        wait_idle(cluster, "plain")
        owner_copy(cluster, "plain_owner", "plain_events_copy (id)", data_dir / "a.csv")
        assert cluster.query("SELECT id, seen FROM plain_events") == cluster.query(
            "SELECT id, seen FROM plain_events_copy") == [
            (1, ['"$user", public', "4MB", "0", "postgres"])]
    finally:
        cluster.query("ALTER ROLE postgres RESET lock_timeout")
        cluster.query("ALTER ROLE postgres IN DATABASE postgres RESET IntervalStyle")
        cluster.query("SELECT ingest.stop('plain')")
