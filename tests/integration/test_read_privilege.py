"""The owner's right to read server files (superuser or pg_read_server_files,
as for COPY FROM a file) is checked before every file and every batch, not only when the source
is created; ingest.start refuses a source whose owner lost it."""

import psycopg2
import pytest

from conftest import (as_role, slow_down_statements, source_state as status, wait_idle,
                      wait_until, worker_running, write_csv_atomically)


def refusal(role):
    return (f'role "{role}" may not read server files: it is neither a superuser nor a member '
            f"of pg_read_server_files (GRANT pg_read_server_files TO {role}, then ingest.start)")


def make_source(cluster, role, source, data_dir, batch_size=10000, slow=False):
    cluster.query(f"CREATE ROLE {role} LOGIN IN ROLE pg_read_server_files")
    cluster.query(f"GRANT CREATE ON SCHEMA public TO {role}")
    as_role(cluster, role, f"CREATE TABLE {source}_rows (id bigint PRIMARY KEY)")
    if slow:
        # The revoke lands in the middle of the file.
        slow_down_statements(cluster, role, f"{source}_rows")
    as_role(cluster, role, f"SELECT ingest.create_source('{source}', %s, '{source}_rows', "
                           f"batch_size => {batch_size})", (str(data_dir),))
    cluster.query(f"SELECT ingest.start('{source}')")


def test_revoked_while_idle_the_next_file_is_not_read_and_start_refuses_until_granted(
        cluster, data_dir):
    make_source(cluster, "idle_reader", "idle_src", data_dir)
    write_csv_atomically(data_dir, "a.csv", "id", ["1", "2"])
    wait_idle(cluster, "idle_src")
    cluster.query("REVOKE pg_read_server_files FROM idle_reader")
    write_csv_atomically(data_dir, "b.csv", "id", ["3", "4"])

    wait_until(lambda: status(cluster, "idle_src")[0] == "failed", 60, "the source to fail")
    assert status(cluster, "idle_src") == ("failed", refusal("idle_reader"))
    wait_until(lambda: not worker_running(cluster, "idle_src"), 60, "the worker to exit")
    assert cluster.query("SELECT id FROM idle_src_rows ORDER BY id") == [(1,), (2,)]
    # The worker asks before it lists the directory: b.csv was not even registered.
    assert cluster.query("SELECT file_name FROM ingest.files WHERE source = 'idle_src' "
                         "AND file_name = 'b.csv'") == []

    with pytest.raises(psycopg2.errors.InsufficientPrivilege) as refused:
        as_role(cluster, "idle_reader", "SELECT ingest.start('idle_src')")
    assert refused.value.pgerror.splitlines()[0] == (
        f'ERROR:  cannot start source "idle_src": {refusal("idle_reader")}')
    assert status(cluster, "idle_src") == ("failed", refusal("idle_reader"))

    cluster.query("GRANT pg_read_server_files TO idle_reader")
    assert as_role(cluster, "idle_reader", "SELECT ingest.start('idle_src')") == [(True,)]
    wait_idle(cluster, "idle_src")
    assert cluster.query("SELECT id FROM idle_src_rows ORDER BY id") == [(1,), (2,), (3,), (4,)]
    assert cluster.query("SELECT file_name, status FROM ingest.files WHERE source = 'idle_src' "
                         "ORDER BY file_name") == [("a.csv", "done"), ("b.csv", "done")]
    cluster.query("SELECT ingest.stop('idle_src')")


def test_revoked_mid_file_no_batch_commits_after_it_and_the_rest_loads_once_regranted(
        cluster, data_dir):
    make_source(cluster, "busy_reader", "busy_src", data_dir, batch_size=5, slow=True)
    write_csv_atomically(data_dir, "big.csv", "id", [str(n) for n in range(1, 101)])
    wait_until(lambda: cluster.scalar("SELECT count(*) FROM busy_src_rows") >= 10, 30,
               "the file to be half-way")
    cluster.query("REVOKE pg_read_server_files FROM busy_reader")
    at_revoke = cluster.scalar("SELECT count(*) FROM busy_src_rows")

    wait_until(lambda: status(cluster, "busy_src")[0] == "failed", 60, "the source to fail")
    assert status(cluster, "busy_src") == ("failed", refusal("busy_reader"))
    wait_until(lambda: not worker_running(cluster, "busy_src"), 60, "the worker to exit")
    loaded = cluster.scalar("SELECT count(*) FROM busy_src_rows")
    # The batch under way at the revoke may commit; none after it.
    assert loaded in (at_revoke, at_revoke + 5)
    assert cluster.query("SELECT status, rows_loaded, line_number FROM ingest.files "
                         "WHERE source = 'busy_src'") == [("loading", loaded, loaded + 1)]

    cluster.query("GRANT pg_read_server_files TO busy_reader")
    assert as_role(cluster, "busy_reader", "SELECT ingest.start('busy_src')") == [(True,)]
    wait_idle(cluster, "busy_src")
    assert cluster.query("SELECT count(*), count(DISTINCT id), min(id), max(id) "
                         "FROM busy_src_rows") == [(100, 100, 1, 100)]
    assert cluster.query("SELECT status, rows_loaded FROM ingest.files "
                         "WHERE source = 'busy_src'") == [("done", 100)]
    cluster.query("SELECT ingest.stop('busy_src')")


def test_a_noinherit_member_may_not_create_a_source(cluster, data_dir):
    # COPY FROM a file asks for the privileges of pg_read_server_files, not membership alone:
    # a NOINHERIT member could not COPY, so it may not create a source either.
    cluster.query("CREATE ROLE noinherit_reader NOINHERIT LOGIN IN ROLE pg_read_server_files")
    cluster.query("CREATE TABLE noinherit_rows (id bigint)")
    cluster.query("GRANT INSERT ON noinherit_rows TO noinherit_reader")
    with pytest.raises(psycopg2.errors.InsufficientPrivilege) as refused:
        as_role(cluster, "noinherit_reader", "SELECT ingest.create_source('noinherit', %s, "
                "'noinherit_rows')", (str(data_dir),))
    assert refused.value.diag.message_primary == \
        'permission denied to create or alter source "noinherit"'
    assert cluster.scalar("SELECT count(*) FROM ingest.sources WHERE name = 'noinherit'") == 0
