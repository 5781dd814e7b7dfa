"""Deleting or moving a loaded file (on_success = delete or move) writes the server's files: the
owner must be a superuser or have the privileges of pg_write_server_files, as for COPY TO a file.
create_source, alter_source and ingest.start refuse otherwise; the worker asks before each file,
each batch and each delete or move, and a file whose owner lost the right stays where it is."""
import os
import shutil

import psycopg2
import psycopg2.extras
import pytest

from conftest import (as_role, postgres_dir, set_allowed_directories, slow_down_statements,
                      source_state as status, wait_idle, wait_until, worker_running,
                      write_csv_atomically)

VERBS = ("delete", "move")


def refusal(role, verb):
    return (f'role "{role}" may not {verb} server files (on_success = {verb}): it is neither a '
            f"superuser nor a member of pg_write_server_files (GRANT pg_write_server_files TO "
            f"{role}, or on_success = keep)")


def refused(fn):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege) as error:
        fn()
    return error.value.diag.message_primary


@pytest.fixture
def archive():
    path = postgres_dir("pg_ingest_archive_")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def on_success(verb, archive, **more):
    """The options of a source that deletes its loaded files, or moves them into `archive`."""
    options = {"on_success": verb, **more}
    if verb == "move":
        options["archive_directory"] = str(archive)
    return psycopg2.extras.Json(options)


def make_role(cluster, role, table, write=False):
    """A role that may read server files (and write them with `write`) and owns `table`."""
    cluster.query(f"CREATE ROLE {role} LOGIN IN ROLE pg_read_server_files" +
                  (", pg_write_server_files" if write else ""))
    cluster.query(f"GRANT CREATE ON SCHEMA public TO {role}")
    as_role(cluster, role, f"CREATE TABLE {table} (id bigint PRIMARY KEY)")


@pytest.mark.parametrize("verb", VERBS)
def test_create_alter_and_start_refuse_an_owner_who_may_not_write(cluster, data_dir, archive,
                                                                  verb):
    reader, writer = f"{verb}_reader", f"{verb}_writer"
    make_role(cluster, reader, f"{reader}_rows")
    make_role(cluster, writer, f"{writer}_rows", write=True)
    # The case: a file the reader may not have the server delete or move.
    (data_dir / "precious.csv").write_text("id\n1\n")
    options = on_success(verb, archive)

    assert refused(lambda: as_role(
        cluster, reader, f"SELECT ingest.create_source('{reader}', %s, '{reader}_rows', "
        "options => %s)", (str(data_dir), options))) == \
        f'cannot create source "{reader}": {refusal(reader, verb)}'
    assert cluster.scalar("SELECT count(*) FROM ingest.sources WHERE name = %s", (reader,)) == 0

    # A source that keeps its files may not be altered into one that deletes or moves them, by
    # its owner or by a superuser: the worker would write for the owner.
    as_role(cluster, reader, f"SELECT ingest.create_source('{reader}', %s, '{reader}_rows')",
            (str(data_dir),))
    for role in (reader, "postgres"):
        assert refused(lambda: as_role(
            cluster, role, f"SELECT ingest.alter_source('{reader}', options => %s)",
            (options,))) == f'cannot alter source "{reader}": {refusal(reader, verb)}'
    assert cluster.scalar("SELECT options->>'on_success' FROM ingest.sources WHERE name = %s",
                          (reader,)) == "keep"
    # One file, one source: the writer's source takes the directory once the reader's is gone.
    cluster.query("SELECT ingest.drop_source(%s)", (reader,))

    # A member of pg_write_server_files may; once it is no longer one, alter_source (whatever it
    # changes) and ingest.start refuse.
    as_role(cluster, writer, f"SELECT ingest.create_source('{writer}', %s, '{writer}_rows', "
            "options => %s)", (str(data_dir), options))
    cluster.query(f"REVOKE pg_write_server_files FROM {writer}")
    assert refused(lambda: as_role(
        cluster, writer, f"SELECT ingest.alter_source('{writer}', batch_size => 5)")) == \
        f'cannot alter source "{writer}": {refusal(writer, verb)}'
    for role in (writer, "postgres"):
        assert refused(lambda: as_role(cluster, role, f"SELECT ingest.start('{writer}')")) == \
            f'cannot start source "{writer}": {refusal(writer, verb)}'
    assert cluster.query("SELECT enabled, batch_size FROM ingest.sources WHERE name = %s",
                         (writer,)) == [(False, 10000)]
    assert sorted(os.listdir(data_dir)) == ["precious.csv"]
    assert os.listdir(archive) == []
    assert cluster.scalar("SELECT count(*) FROM ingest.files WHERE source IN (%s, %s)",
                          (reader, writer)) == 0

    # Granted again, it starts; a superuser needs no grant.
    cluster.query(f"GRANT pg_write_server_files TO {writer}")
    assert as_role(cluster, writer, f"SELECT ingest.start('{writer}')") == [(True,)]
    wait_idle(cluster, writer)
    cluster.query(f"SELECT ingest.stop('{writer}')")
    assert cluster.query(f"SELECT id FROM {writer}_rows") == [(1,)]
    assert os.listdir(data_dir) == []
    assert os.listdir(archive) == (["precious.csv"] if verb == "move" else [])
    cluster.query("SELECT ingest.drop_source(%s)", (writer,))


@pytest.mark.parametrize("verb", VERBS)
def test_a_member_of_pg_write_server_files_deletes_and_moves_with_markers(cluster, data_dir,
                                                                         archive, verb):
    role = f"member_{verb}"
    make_role(cluster, role, f"{role}_rows", write=True)
    options = on_success(verb, archive, ready_marker=".ok")
    as_role(cluster, role, f"SELECT ingest.create_source('{role}', %s, '{role}_rows', "
            "options => %s)", (str(data_dir), options))
    assert as_role(cluster, role, f"SELECT ingest.start('{role}')") == [(True,)]
    for n in range(1, 4):
        write_csv_atomically(data_dir, f"{n}.csv", "id", [str(n), str(10 + n)])
        (data_dir / f"{n}.csv.ok").touch()
    wait_until(lambda: cluster.scalar(f"SELECT count(*) FROM {role}_rows") == 6, 30,
               "the three files to load")
    wait_idle(cluster, role)
    assert cluster.query(f"SELECT count(*), count(DISTINCT id) FROM {role}_rows") == [(6, 6)]
    assert cluster.query("SELECT file_name, status, error FROM ingest.files WHERE source = %s "
                         "ORDER BY file_name", (role,)) == [
        (f"{n}.csv", "done", None) for n in range(1, 4)]
    wait_until(lambda: os.listdir(data_dir) == [], 10, "the files to be gone")
    expected = sorted(f"{n}.csv{marker}" for n in range(1, 4) for marker in ("", ".ok"))
    assert sorted(os.listdir(archive)) == (expected if verb == "move" else [])
    cluster.query("SELECT ingest.drop_source(%s)", (role,))


@pytest.mark.parametrize("verb", VERBS)
def test_revoked_as_the_last_batch_commits_the_done_file_stays_with_a_note(cluster, data_dir,
                                                                          archive, verb):
    """The REVOKE commits with the batch that marks the file done, after the batch's own check:
    only the check just before the delete or move sees it."""
    role = f"last_{verb}"
    make_role(cluster, role, f"{role}_rows", write=True)
    cluster.query(f"""
        CREATE FUNCTION {role}_revoke() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
        BEGIN REVOKE pg_write_server_files FROM {role}; RETURN NULL; END $$;
        CREATE TRIGGER revoke_at_last AFTER INSERT ON {role}_rows
            FOR EACH ROW WHEN (NEW.id = 3) EXECUTE FUNCTION {role}_revoke()""")
    as_role(cluster, role, f"SELECT ingest.create_source('{role}', %s, '{role}_rows', "
            "options => %s)", (str(data_dir), on_success(verb, archive)))
    as_role(cluster, role, f"SELECT ingest.start('{role}')")
    write_csv_atomically(data_dir, "a.csv", "id", ["1", "2", "3"])
    write_csv_atomically(data_dir, "b.csv", "id", ["4"])

    wait_until(lambda: status(cluster, role)[0] == "failed", 30, "the source to fail")
    assert status(cluster, role) == ("failed", refusal(role, verb))
    wait_until(lambda: not worker_running(cluster, role), 10, "the worker to exit")
    files = cluster.query("SELECT file_name, status, rows_loaded, error FROM ingest.files "
                          "WHERE source = %s ORDER BY file_name", (role,))
    assert files[0] == ("a.csv", "done", 3,
                        f"loaded, but not moved or deleted: {refusal(role, verb)}")
    # b.csv shared a.csv's batch, or waits untouched: either way it is where it was.
    assert files[1:] in ([], [("b.csv", "pending", 0, None)],
                         [("b.csv", "done", 1, f"loaded, but not moved or deleted: "
                                               f"{refusal(role, verb)}")])
    assert sorted(os.listdir(data_dir)) == ["a.csv", "b.csv"]
    assert os.listdir(archive) == []
    loaded = cluster.query(f"SELECT count(*), count(DISTINCT id) FROM {role}_rows")[0]
    assert loaded in ((3, 3), (4, 4))
    assert f'pg_ingest source "{role}": loaded file "a.csv" stays where it is: ' \
        f"{refusal(role, verb)}" in cluster.log()
    cluster.query("SELECT ingest.drop_source(%s)", (role,))


@pytest.mark.parametrize("verb", VERBS)
def test_revoked_mid_file_the_file_stays_and_loads_once_regranted_through_kill_9(
        cluster, data_dir, archive, verb):
    role = f"busy_{verb}"
    make_role(cluster, role, f"{role}_rows", write=True)
    # The kill and the revoke land in the middle of the file.
    slow_down_statements(cluster, role, f"{role}_rows")
    as_role(cluster, role, f"SELECT ingest.create_source('{role}', %s, '{role}_rows', "
            "batch_size => 5, options => %s)", (str(data_dir), on_success(verb, archive)))
    as_role(cluster, role, f"SELECT ingest.start('{role}')")
    write_csv_atomically(data_dir, "big.csv", "id", [str(n) for n in range(1, 301)])
    count = f"SELECT count(*) FROM {role}_rows"

    wait_until(lambda: cluster.scalar(count) >= 10, 60, "the file to be under way")
    cluster.kill_workers(role)
    at_kill = cluster.scalar(count)
    wait_until(lambda: cluster.scalar(count) >= at_kill + 10, 60, "the load to resume")
    cluster.query(f"REVOKE pg_write_server_files FROM {role}")
    at_revoke = cluster.scalar(count)

    wait_until(lambda: status(cluster, role)[0] == "failed", 30, "the source to fail")
    assert status(cluster, role) == ("failed", refusal(role, verb))
    wait_until(lambda: not worker_running(cluster, role), 10, "the worker to exit")
    loaded = cluster.scalar(count)
    # The batch under way at the revoke may commit; none after it.
    assert loaded in (at_revoke, at_revoke + 5)
    assert cluster.query(f"SELECT count(*), count(DISTINCT id), max(id) FROM {role}_rows") == [
        (loaded, loaded, loaded)]
    assert cluster.query("SELECT status, rows_loaded, line_number, error FROM ingest.files "
                         "WHERE source = %s", (role,)) == [("loading", loaded, loaded + 1, None)]
    assert os.listdir(data_dir) == ["big.csv"]
    assert os.listdir(archive) == []
    assert refused(lambda: as_role(cluster, role, f"SELECT ingest.start('{role}')")) == \
        f'cannot start source "{role}": {refusal(role, verb)}'

    # Granted again: the rest loads once, through an immediate shutdown, and the file goes.
    cluster.query(f"GRANT pg_write_server_files TO {role}")
    assert as_role(cluster, role, f"SELECT ingest.start('{role}')") == [(True,)]
    wait_until(lambda: cluster.scalar(count) >= loaded + 10, 60, "the load to go on")
    cluster.stop("immediate")
    cluster.start()
    cluster.worker_pid(role, timeout=60)
    wait_idle(cluster, role)
    assert cluster.query(f"SELECT count(*), count(DISTINCT id), min(id), max(id) "
                         f"FROM {role}_rows") == [(300, 300, 1, 300)]
    assert cluster.query("SELECT status, rows_loaded, error FROM ingest.files WHERE source = %s",
                         (role,)) == [("done", 300, None)]
    wait_until(lambda: os.listdir(data_dir) == [], 10, "the file to be gone")
    assert os.listdir(archive) == (["big.csv"] if verb == "move" else [])
    cluster.query("SELECT ingest.drop_source(%s)", (role,))


def test_an_archive_directory_outside_allowed_directories_is_refused(cluster):
    base = postgres_dir("pg_ingest_fenced_")
    watched, kept, outside = base / "in", base / "archive", postgres_dir("pg_ingest_outside_")
    for directory in (watched, kept):
        directory.mkdir()
        shutil.chown(directory, "postgres", "postgres")
    try:
        set_allowed_directories(cluster, str(base))
        cluster.query("CREATE TABLE fenced_archive (id bigint)")
        move_to = lambda directory: psycopg2.extras.Json(  # noqa: E731
            {"on_success": "move", "archive_directory": str(directory)})
        assert refused(lambda: cluster.query(
            "SELECT ingest.create_source('fenced', %s, 'fenced_archive', options => %s)",
            (str(watched), move_to(outside)))) == \
            f'archive directory "{outside}" of source "fenced" is not inside ' \
            "pg_ingest.allowed_directories"
        cluster.query("SELECT ingest.create_source('fenced', %s, 'fenced_archive', "
                      "options => %s)", (str(watched), move_to(kept)))
        cluster.query("SELECT ingest.start('fenced')")
        write_csv_atomically(watched, "a.csv", "id", ["1"])
        wait_idle(cluster, "fenced")
        wait_until(lambda: os.listdir(kept) == ["a.csv"], 10, "a.csv to be archived")

        # Narrowed to the watched directory alone: the running source fails before its next
        # file, which stays where it is.
        set_allowed_directories(cluster, str(watched))
        write_csv_atomically(watched, "b.csv", "id", ["2"])
        wait_until(lambda: status(cluster, "fenced")[0] == "failed", 30, "the source to fail")
        assert status(cluster, "fenced") == (
            "failed", f'archive directory "{kept}" of source "fenced" is not inside '
                      "pg_ingest.allowed_directories")
        assert cluster.query("SELECT id FROM fenced_archive") == [(1,)]
        assert os.listdir(watched) == ["b.csv"]
        assert os.listdir(kept) == ["a.csv"]
        cluster.query("SELECT ingest.drop_source('fenced')")
        cluster.query("DROP TABLE fenced_archive")
    finally:
        set_allowed_directories(cluster, "")
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(outside, ignore_errors=True)


def test_a_worker_that_starts_for_an_owner_who_may_not_write_neither_watches_nor_lists(
        cluster, data_dir):
    """As after a server restart, or a restore, with the source enabled: the worker asks before
    it watches or lists the directory, so it never says it started, and registers nothing."""
    make_role(cluster, "restarted_writer", "restarted_rows", write=True)
    as_role(cluster, "restarted_writer", "SELECT ingest.create_source('restarted', %s, "
            "'restarted_rows', options => '{\"on_success\": \"delete\"}')", (str(data_dir),))
    cluster.query("REVOKE pg_write_server_files FROM restarted_writer")
    write_csv_atomically(data_dir, "a.csv", "id", ["1"])
    # Enabled behind ingest.start's back, which would refuse it.
    cluster.query("UPDATE ingest.sources SET enabled = true WHERE name = 'restarted'")
    cluster.stop()
    log_offset = cluster.log_size()
    cluster.start()

    wait_until(lambda: status(cluster, "restarted")[0] == "failed", 60, "the source to fail")
    assert status(cluster, "restarted") == ("failed", refusal("restarted_writer", "delete"))
    log = cluster.log(since=log_offset)
    assert f'pg_ingest source "restarted" stopped: {refusal("restarted_writer", "delete")}' in log
    assert 'pg_ingest source "restarted" started on' not in log
    assert cluster.query("SELECT count(*) FROM ingest.files WHERE source = 'restarted'") == [(0,)]
    assert os.listdir(data_dir) == ["a.csv"]
    cluster.query("SELECT ingest.drop_source('restarted')")
