"""Privileges: rows are written as the source owner, roles see only their own sources, and input
that attacks (FIFOs, symlinks, hostile names) changes nothing but the intended rows."""
import os
import shutil
from pathlib import Path

import psycopg2
import pytest

from conftest import (as_role, postgres_dir, set_allowed_directories, wait_idle, wait_until,
                      write_csv_atomically)


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
    wait_until(lambda: cluster.scalar("SELECT state FROM ingest.status WHERE source = 'owned'")
               == "failed", 30, "the source to fail")
    assert cluster.scalar("SELECT last_error FROM ingest.status WHERE source = 'owned'") == \
        'role "loader" has no INSERT privilege on table "owned"'
    assert cluster.scalar("SELECT count(*) FROM owned") == 2
    cluster.query("SELECT ingest.drop_source('owned')")
    cluster.query("DROP TABLE owned")
    cluster.query("DROP ROLE loader, snoop")


def error_of(fn):
    with pytest.raises(psycopg2.Error) as error:
        fn()
    return error.value.diag


@pytest.fixture
def allowed(cluster):
    """A directory for pg_ingest.allowed_directories, with `in` below it; `sibling` shares its name
    as a string prefix and lies outside. The setting is reset afterwards."""
    base = postgres_dir("pg_ingest_allowed_")
    sibling = Path(str(base) + "2")
    sibling.mkdir()
    shutil.chown(sibling, "postgres", "postgres")
    (base / "in").mkdir()
    shutil.chown(base / "in", "postgres", "postgres")
    yield base, sibling
    set_allowed_directories(cluster, "")
    shutil.rmtree(base, ignore_errors=True)
    shutil.rmtree(sibling, ignore_errors=True)


def test_allowed_directories_refuse_what_resolves_outside_them(cluster, allowed):
    base, sibling = allowed
    assert cluster.query("SELECT short_desc, context FROM pg_settings "
                         "WHERE name = 'pg_ingest.allowed_directories'") == [
        ("Directories that sources may read from and archive into; empty allows any.", "sighup")]
    diag = error_of(lambda: cluster.query(
        "ALTER SYSTEM SET pg_ingest.allowed_directories = '/data, relative/dir'"))
    assert diag.message_primary == \
        'invalid value for parameter "pg_ingest.allowed_directories": "/data, relative/dir"'
    assert diag.message_detail == '"relative/dir" is not an absolute path.'

    set_allowed_directories(cluster, f"/nonexistent, {base}")
    cluster.query("CREATE TABLE fenced (id bigint)")
    cluster.query("CREATE ROLE fenced_loader IN ROLE pg_read_server_files")
    cluster.query("GRANT INSERT ON fenced TO fenced_loader")
    cluster.query("SELECT ingest.create_source('inside', %s, 'fenced')", (str(base / "in"),))
    # Its own pattern: 'inside' archives its *.csv files into this directory below (one file,
    # one source).
    cluster.query("SELECT ingest.create_source('itself', %s, 'fenced', '*.txt')", (str(base),))

    # A sibling whose name starts with the allowed one is outside it, for every role.
    for role in ("postgres", "fenced_loader"):
        diag = error_of(lambda: as_role(cluster, role, "SELECT ingest.create_source('x', %s, 'fenced')",
                                        (str(sibling),)))
        assert diag.message_primary == \
            f'directory "{sibling}" of source "x" is not inside pg_ingest.allowed_directories'
        assert diag.message_detail is None
        assert diag.sqlstate == "42501"

    # A symbolic link inside the allowed directory that leads out of it.
    os.symlink("/etc", base / "link")
    diag = error_of(lambda: cluster.query("SELECT ingest.create_source('x', %s, 'fenced')",
                                          (str(base / "link"),)))
    assert diag.message_primary == \
        f'directory "{base}/link" of source "x" is not inside pg_ingest.allowed_directories'
    assert diag.message_detail == f'"{base}/link" resolves to "/etc".'
    diag = error_of(lambda: cluster.query("SELECT ingest.create_source('x', %s, 'fenced')",
                                          (f"{base}/in/../../{sibling.name}",)))
    assert diag.message_primary == (f'directory "{base}/in/../../{sibling.name}" of source "x" '
                                    'is not inside pg_ingest.allowed_directories')
    assert diag.message_detail == f'"{base}/in/../../{sibling.name}" resolves to "{sibling}".'

    # The archive directory of on_success = move, at creation and at alter_source.
    move_outside = f'{{"on_success": "move", "archive_directory": "{sibling}"}}'
    diag = error_of(lambda: cluster.query("SELECT ingest.create_source('x', %s, 'fenced', options => %s)",
                                          (str(base / "in"), move_outside)))
    assert diag.message_primary == \
        f'archive directory "{sibling}" of source "x" is not inside pg_ingest.allowed_directories'
    diag = error_of(lambda: cluster.query("SELECT ingest.alter_source('inside', options => %s)",
                                          (move_outside,)))
    assert diag.message_primary == (f'archive directory "{sibling}" of source "inside" is not '
                                    'inside pg_ingest.allowed_directories')
    diag = error_of(lambda: cluster.query("SELECT ingest.alter_source('inside', directory => %s)",
                                          (str(base / "link"),)))
    assert diag.message_primary == \
        f'directory "{base}/link" of source "inside" is not inside pg_ingest.allowed_directories'
    cluster.query("SELECT ingest.alter_source('inside', options => %s)",
                  (f'{{"on_success": "move", "archive_directory": "{base}"}}',))
    assert cluster.query("SELECT name, directory, options->>'archive_directory' FROM ingest.sources "
                         "WHERE name IN ('inside', 'itself', 'x') ORDER BY name") == [
        ("inside", str(base / "in"), str(base)), ("itself", str(base), None)]

    # Once the setting no longer covers a source, alter_source refuses to keep it there.
    set_allowed_directories(cluster, f"{base}/in")
    diag = error_of(lambda: cluster.query("SELECT ingest.alter_source('itself', batch_size => 5)"))
    assert diag.message_primary == \
        f'directory "{base}" of source "itself" is not inside pg_ingest.allowed_directories'
    cluster.query("SELECT ingest.drop_source('inside')")
    cluster.query("SELECT ingest.drop_source('itself')")
    cluster.query("DROP TABLE fenced")
    cluster.query("DROP OWNED BY fenced_loader")
    cluster.query("DROP ROLE fenced_loader")


def test_narrowed_allowed_directories_fail_the_source_before_its_next_file(cluster, allowed):
    base, sibling = allowed
    watched = base / "in"
    set_allowed_directories(cluster, str(base))
    cluster.query("CREATE TABLE narrowed (id bigint)")
    cluster.query("SELECT ingest.create_source('narrowed', %s, 'narrowed')", (str(watched),))
    cluster.query("SELECT ingest.start('narrowed')")
    write_csv_atomically(watched, "a.csv", "id", ["1"])
    wait_idle(cluster, "narrowed")
    assert cluster.scalar("SELECT count(*) FROM narrowed") == 1

    # A reload that no longer covers the running source's directory fails it.
    set_allowed_directories(cluster, str(sibling))
    refusal = f'directory "{watched}" of source "narrowed" is not inside pg_ingest.allowed_directories'
    wait_until(lambda: cluster.scalar("SELECT state FROM ingest.status WHERE source = 'narrowed'") == "failed")
    assert cluster.scalar("SELECT failed_error FROM ingest.sources WHERE name = 'narrowed'") == refusal
    assert f'pg_ingest source "narrowed" stopped: {refusal}' in cluster.log()

    # Started again, the worker refuses before it lists or reads anything.
    write_csv_atomically(watched, "b.csv", "id", ["2"])
    cluster.query("SELECT ingest.start('narrowed')")
    wait_until(lambda: cluster.scalar("SELECT state FROM ingest.status WHERE source = 'narrowed'") == "failed")
    assert cluster.scalar("SELECT last_error FROM ingest.status WHERE source = 'narrowed'") == refusal
    assert cluster.query("SELECT file_name FROM ingest.files WHERE source = 'narrowed'") == [("a.csv",)]
    assert cluster.scalar("SELECT count(*) FROM narrowed") == 1

    # A symbolic link swapped in for the watched directory is resolved too.
    set_allowed_directories(cluster, str(base))
    os.rename(watched, base / "moved")
    os.symlink(sibling, watched)
    write_csv_atomically(sibling, "c.csv", "id", ["3"])
    cluster.query("SELECT ingest.start('narrowed')")
    wait_until(lambda: cluster.scalar("SELECT state FROM ingest.status WHERE source = 'narrowed'") == "failed")
    assert cluster.scalar("SELECT last_error FROM ingest.status WHERE source = 'narrowed'") == \
        f'{refusal} (it resolves to "{sibling}")'
    assert cluster.scalar("SELECT count(*) FROM narrowed") == 1
    cluster.query("SELECT ingest.drop_source('narrowed')")
    cluster.query("DROP TABLE narrowed")


def test_file_names_invalid_in_the_database_encoding_load_under_an_escaped_name(cluster, data_dir):
    cluster.query("CREATE TABLE named (id bigint PRIMARY KEY, payload text)")
    cluster.query("SELECT ingest.create_source('named', %s, 'named')", (str(data_dir),))
    cluster.query("SELECT ingest.start('named')")
    def on_disk(raw):
        return raw.decode("utf-8", "surrogateescape")
    # Latin-1 e-acute, then two bytes that start no UTF-8 character; the valid "é" stays as it is.
    write_csv_atomically(data_dir, on_disk(b"caf\xe9-\xff\xfe-\xc3\xa9.csv"), "id,payload",
                         ["1,a", "x,b", "2,c"])
    write_csv_atomically(data_dir, on_disk(b"retry\xff.csv"), "id,payload,extra", ["3,d,e"])
    write_csv_atomically(data_dir, on_disk(b"skip\xfe.csv"), "id,nope", ["4,f"])
    wait_idle(cluster, "named")

    files = cluster.query(
        "SELECT file_name, file_name_bytes, status, rows_loaded, rows_rejected, error "
        "FROM ingest.files WHERE source = 'named' ORDER BY file_name")
    assert [(name, bytes(exact), *rest) for name, exact, *rest in files] == [
        ("caf\\xe9-\\xff\\xfe-é.csv", b"caf\xe9-\xff\xfe-\xc3\xa9.csv", "done", 2, 1, None),
        ("retry\\xff.csv", b"retry\xff.csv", "failed", 0, 0,
         'source "named", file "retry\\xff.csv": header of file "retry\\xff.csv" names columns '
         'that table public.named does not have: extra'),
        ("skip\\xfe.csv", b"skip\xfe.csv", "failed", 0, 0,
         'source "named", file "skip\\xfe.csv": header of file "skip\\xfe.csv" names columns '
         'that table public.named does not have: nope'),
    ]
    assert cluster.query("SELECT file_name, line_number, raw_line FROM ingest.rejects "
                         "WHERE source = 'named'") == [("caf\\xe9-\\xff\\xfe-é.csv", 3, "x,b")]

    # The operator functions take the name as the catalog shows it; the worker opens the exact one.
    cluster.query("ALTER TABLE named ADD COLUMN extra text")
    cluster.query("SELECT ingest.retry_file('named', 'retry\\xff.csv')")
    cluster.query("SELECT ingest.skip_file('named', 'skip\\xfe.csv')")
    wait_idle(cluster, "named")
    assert cluster.query("SELECT file_name, status, rows_loaded FROM ingest.files "
                         "WHERE source = 'named' ORDER BY file_name") == [
        ("caf\\xe9-\\xff\\xfe-é.csv", "done", 2), ("retry\\xff.csv", "done", 1),
        ("skip\\xfe.csv", "skipped", 0)]
    assert cluster.query("SELECT id, payload, extra FROM named ORDER BY id") == [
        (1, "a", None), (2, "c", None), (3, "d", "e")]
    # Every text of the catalog is valid in the database encoding (convert_to checks it).
    assert cluster.scalar(
        "SELECT count(*) FROM ingest.files f, "
        "  LATERAL (SELECT convert_to(f.file_name || coalesce(f.error, ''), 'UTF8')) c "
        "WHERE f.source = 'named'") == 3
    assert cluster.scalar(
        "SELECT count(convert_to(file_name || raw_line || error, 'UTF8')) FROM ingest.rejects "
        "WHERE source = 'named'") == 1
    assert cluster.scalar(
        "SELECT count(convert_to(coalesce(current_file, '') || coalesce(last_error, ''), 'UTF8')) "
        "FROM ingest.status WHERE source = 'named'") == 1
    cluster.query("SELECT ingest.drop_source('named')")
    cluster.query("DROP TABLE named")


def test_sources_follow_their_owner_through_drop_role_and_reassign_owned(cluster, data_dir):
    # INSERT comes through membership of writers: the roles own no object PostgreSQL knows of.
    cluster.query("CREATE ROLE writers")
    for role in ("first_owner", "second_owner", "heir"):
        cluster.query(f"CREATE ROLE {role} IN ROLE pg_read_server_files, writers")
    cluster.query("CREATE TABLE inherited (id bigint, written_by name)")
    cluster.query("GRANT INSERT ON inherited TO writers")
    cluster.query("""CREATE FUNCTION stamp_inherited() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN NEW.written_by := current_user; RETURN NEW; END $$""")
    cluster.query("CREATE TRIGGER stamp BEFORE INSERT ON inherited "
                  "FOR EACH ROW EXECUTE FUNCTION stamp_inherited()")
    second_dir = postgres_dir("pg_ingest_second_")
    as_role(cluster, "first_owner", "SELECT ingest.create_source('handed_over', %s, 'inherited')",
            (str(data_dir),))
    as_role(cluster, "second_owner", "SELECT ingest.create_source('dropped_with', %s, 'inherited')",
            (str(second_dir),))
    cluster.query("SELECT ingest.start()")
    write_csv_atomically(data_dir, "a.csv", "id", ["1"])
    wait_idle(cluster, "handed_over")

    diag = error_of(lambda: cluster.query("DROP ROLE first_owner"))
    assert diag.message_primary == 'role "first_owner" cannot be dropped because some objects depend on it'
    assert diag.message_detail == 'owner of pg_ingest source "handed_over"'
    assert diag.message_hint == \
        "REASSIGN OWNED BY hands its sources to another role, DROP OWNED BY drops them."
    assert diag.sqlstate == "2BP01"

    # REASSIGN OWNED hands the source over; its running worker restarts writing as the heir.
    cluster.query("REASSIGN OWNED BY first_owner TO heir")
    assert cluster.scalar("SELECT owner::text FROM ingest.sources WHERE name = 'handed_over'") == "heir"
    cluster.query("DROP ROLE first_owner")
    write_csv_atomically(data_dir, "b.csv", "id", ["2"])
    wait_idle(cluster, "handed_over")
    wait_until(lambda: cluster.query("SELECT id, written_by FROM inherited ORDER BY id") == [
        (1, "first_owner"), (2, "heir")])

    # DROP OWNED drops the sources with the role's other objects, and stops their workers.
    cluster.worker_pid("dropped_with")
    cluster.query("DROP OWNED BY second_owner")
    assert cluster.query("SELECT name FROM ingest.sources WHERE name = 'dropped_with'") == []
    wait_until(lambda: cluster.query("SELECT pid FROM pg_stat_activity "
                                     "WHERE application_name = 'pg_ingest: dropped_with'") == [])
    cluster.query("DROP ROLE second_owner")

    # A database where the statement does not run: the worker fails the source instead.
    cluster.query("CREATE DATABASE elsewhere")
    try:
        cluster.query("CREATE EXTENSION pg_ingest", dbname="elsewhere")
        cluster.query("CREATE TABLE remote (id bigint)", dbname="elsewhere")
        cluster.query("CREATE ROLE remote_owner IN ROLE pg_read_server_files")
        cluster.query("GRANT INSERT ON remote TO PUBLIC", dbname="elsewhere")
        conn = cluster.connect("elsewhere")
        with conn.cursor() as cur:
            cur.execute("SET ROLE remote_owner")
            cur.execute("SELECT ingest.create_source('orphaned', %s, 'remote')", (str(second_dir),))
            cur.execute("SELECT ingest.start('orphaned')")
        conn.close()
        cluster.worker_pid("orphaned", dbname="elsewhere")
        owner_oid = cluster.scalar("SELECT oid FROM pg_roles WHERE rolname = 'remote_owner'")
        cluster.query("DROP ROLE remote_owner")
        wait_until(lambda: cluster.scalar("SELECT state FROM ingest.status", dbname="elsewhere") == "failed")
        assert cluster.scalar("SELECT last_error FROM ingest.status", dbname="elsewhere") == \
            f"owner role with OID {owner_oid} no longer exists"
    finally:
        cluster.query("DROP DATABASE elsewhere WITH (FORCE)")
    cluster.query("SELECT ingest.drop_source('handed_over')")
    cluster.query("DROP TABLE inherited")
    cluster.query("DROP FUNCTION stamp_inherited()")
    cluster.query("DROP OWNED BY heir")
    cluster.query("DROP ROLE heir, writers")
    shutil.rmtree(second_dir, ignore_errors=True)
