"""Privileges: rows are written as the source owner, roles see only their own sources, and input
that attacks (FIFOs, symlinks, hostile names) changes nothing but the intended rows."""
import os
import time

import psycopg2
import pytest

from conftest import wait_idle, write_csv_atomically


def test_fifo_and_symlink_matching_the_pattern_are_skipped_not_opened(cluster, data_dir, tmp_path):
    cluster.query("CREATE TABLE guarded (id bigint PRIMARY KEY, payload text)")
    cluster.query("SELECT ingest.create_source('guarded', %s, 'guarded')", (str(data_dir),))
    os.mkfifo(data_dir / "evil.csv")
    outside = tmp_path / "secret.csv"
    outside.write_text("id,payload\n666,stolen\n")
    tmp_path.chmod(0o755)
    os.symlink(outside, data_dir / "link.csv")
    cluster.query("SELECT ingest.start('guarded')")
    cluster.worker_pid("guarded")
    write_csv_atomically(data_dir, "good.csv", "id,payload", ["1,fine"])
    wait_idle(cluster, "guarded")
    assert cluster.query("SELECT id, payload FROM guarded") == [(1, "fine")]
    assert cluster.query("SELECT file_name FROM ingest.files WHERE source = 'guarded'") == [
        ("good.csv",)]
    log = cluster.log()
    assert 'pg_ingest source "guarded": skipping "evil.csv": not a regular file: fifo' in log
    assert 'pg_ingest source "guarded": skipping "link.csv": not a regular file: symbolic link' in log
    # The worker is not blocked on the FIFO: it keeps loading.
    write_csv_atomically(data_dir, "later.csv", "id,payload", ["2,also fine"])
    wait_idle(cluster, "guarded")
    assert cluster.scalar("SELECT count(*) FROM guarded") == 2
    cluster.query("SELECT ingest.stop('guarded')")


def test_hostile_header_and_file_names_change_nothing_but_the_rows(cluster, data_dir):
    cluster.query('CREATE TABLE hostile ("x""); DROP TABLE hostile; --" text, id bigint)')
    cluster.query("SELECT ingest.create_source('hostile', %s, 'hostile', '*')", (str(data_dir),))
    cluster.query("SELECT ingest.start('hostile')")
    name = "it's a \"quoted\" name; DROP TABLE hostile.csv"
    write_csv_atomically(data_dir, name, '"x""); DROP TABLE hostile; --",id', ["a,1", "b,2"])
    wait_idle(cluster, "hostile")
    assert cluster.query('SELECT "x""); DROP TABLE hostile; --", id FROM hostile ORDER BY id') == [
        ("a", 1), ("b", 2)]
    assert cluster.query("SELECT file_name, status FROM ingest.files WHERE source = 'hostile'") == [
        (name, "done")]
    cluster.query("SELECT ingest.stop('hostile')")


def as_role(cluster, role, sql, params=None):
    conn = cluster.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"SET ROLE {role}")
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def test_rows_are_written_as_the_owner_and_a_revoke_stops_the_source(cluster, data_dir):
    cluster.query("CREATE ROLE loader IN ROLE pg_read_server_files")
    cluster.query("CREATE ROLE snoop")
    cluster.query("CREATE TABLE owned (id bigint PRIMARY KEY, secret text, written_by name)")
    cluster.query("GRANT SELECT, INSERT ON owned TO loader")
    cluster.query("""CREATE FUNCTION stamp_writer() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN NEW.written_by := current_user; RETURN NEW; END $$""")
    cluster.query("CREATE TRIGGER stamp BEFORE INSERT ON owned FOR EACH ROW EXECUTE FUNCTION stamp_writer()")
    # Row-level security: the owner may not write secrets starting with 'top'.
    cluster.query("ALTER TABLE owned ENABLE ROW LEVEL SECURITY")
    cluster.query("CREATE POLICY readable ON owned FOR SELECT USING (true)")
    cluster.query("CREATE POLICY no_top ON owned FOR INSERT WITH CHECK (secret NOT LIKE 'top%')")

    as_role(cluster, "loader", "SELECT ingest.create_source('owned', %s, 'owned')", (str(data_dir),))
    assert cluster.scalar("SELECT owner::text FROM ingest.sources WHERE name = 'owned'") == "loader"
    as_role(cluster, "loader", "SELECT ingest.start('owned')")
    write_csv_atomically(data_dir, "a.csv", "id,secret", ["1,plain", "2,top secret", "3,also plain"])
    wait_idle(cluster, "owned")
    assert cluster.query("SELECT id, written_by FROM owned ORDER BY id") == [
        (1, "loader"), (3, "loader")]
    assert cluster.query("SELECT line_number, sqlstate, error FROM ingest.rejects "
                         "WHERE source = 'owned'") == [
        (3, "42501", 'new row violates row-level security policy for table "owned"')]

    # Another role sees nothing of it and cannot stop it.
    assert as_role(cluster, "snoop", "SELECT count(*) FROM ingest.rejects") == [(0,)]
    assert as_role(cluster, "snoop", "SELECT count(*) FROM ingest.sources") == [(0,)]
    assert as_role(cluster, "snoop", "SELECT count(*) FROM ingest.status") == [(0,)]
    with pytest.raises(psycopg2.Error) as error:
        as_role(cluster, "snoop", "SELECT ingest.stop('owned')")
    assert error.value.diag.message_primary == 'permission denied for source "owned"'
    assert as_role(cluster, "snoop", "SELECT ingest.stop()") == [(False,)]
    with pytest.raises(psycopg2.Error) as error:
        as_role(cluster, "snoop", "UPDATE ingest.sources SET enabled = false")
    assert error.value.diag.message_primary == "permission denied for table sources"
    assert as_role(cluster, "loader", "SELECT count(*) FROM ingest.rejects") == [(1,)]

    # After a REVOKE the worker fails the source and writes nothing more.
    cluster.query("REVOKE INSERT ON owned FROM loader")
    write_csv_atomically(data_dir, "b.csv", "id,secret", ["4,late"])
    deadline = time.time() + 10
    while cluster.scalar("SELECT state FROM ingest.status WHERE source = 'owned'") != "failed":
        assert time.time() < deadline
        time.sleep(0.05)
    assert cluster.scalar("SELECT last_error FROM ingest.status WHERE source = 'owned'") == \
        'role "loader" has no INSERT privilege on table "owned"'
    assert cluster.scalar("SELECT count(*) FROM owned") == 2
    cluster.query("SELECT ingest.drop_source('owned')")
    cluster.query("DROP TABLE owned")
    cluster.query("DROP ROLE loader, snoop")
