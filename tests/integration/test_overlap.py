"""One file, one source: no file is loaded by two sources, in one database or across two.

create_source/alter_source refuse a source that can take another source's files in the same
database; across databases, a started source claims its files in shared memory and ingest.start
(or the worker, when two start at once) refuses the second, naming the first."""
import os
import shutil
import threading

import psycopg2
import pytest

from conftest import postgres_dir, wait_idle, wait_until, write_csv_atomically

FILES = 4
LINES = 60_000


def refusal(cluster, sql, params=None, dbname="postgres"):
    with pytest.raises(psycopg2.Error) as error:
        cluster.query(sql, params, dbname)
    return error.value.diag.message_primary, error.value.diag.message_hint


def write_files(directory, prefix, count, lines, extension="csv"):
    """`count` files of `lines` lines each, ids unique over all of them."""
    for f in range(count):
        write_csv_atomically(directory, f"{prefix}{f}.{extension}", "id,note",
                             (f"{f * lines + i},{prefix} {i}" for i in range(lines)))


def loaded_exactly_once(cluster, table, rows, dbname="postgres"):
    assert cluster.query(f"SELECT count(*), count(DISTINCT id), min(id), max(id) FROM {table}",
                         dbname=dbname) == [(rows, rows, 0, rows - 1)]


@pytest.fixture
def archive_dir():
    path = postgres_dir("pg_ingest_archive_")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_one_database_refuses_a_second_source_on_the_same_files(cluster, data_dir, archive_dir):
    for table in ("deleter", "texts", "second"):
        cluster.query(f"CREATE TABLE {table} (id bigint PRIMARY KEY, note text)")
    try:
        cluster.query("SELECT ingest.create_source('deleter', %s, 'deleter', '*.csv', 1000, "
                      "'{\"on_success\": \"delete\", \"ready_marker\": \".ok\"}')",
                      (str(data_dir),))
        # Disjoint patterns on one directory stay allowed.
        cluster.query("SELECT ingest.create_source('texts', %s, 'texts', '*.txt', 1000)",
                      (str(data_dir),))
        hint = ('Give source "second" a pattern that no file name of source "deleter" matches, '
                'or another directory: a file is loaded by one source only.')
        assert refusal(cluster, "SELECT ingest.create_source('second', %s, 'second', '*')",
                       (str(data_dir),)) == (
            f'source "second" can take the files of source "deleter": "{data_dir}" is the '
            'directory of both, and the file name "a.csv" matches both "*" and "*.csv"', hint)
        # The same directory by another path (a symbolic link): the same device and inode.
        link = archive_dir / "inbox"
        os.symlink(data_dir, link)
        assert refusal(cluster, "SELECT ingest.create_source('second', %s, 'second', 'x*')",
                       (str(link),))[0] == (
            f'source "second" can take the files of source "deleter": "{data_dir}" is the '
            'directory of both, and the file name "x.csv" matches both "x*" and "*.csv"')
        # The ready markers that source deletes with its files are its names too.
        assert refusal(cluster, "SELECT ingest.create_source('second', %s, 'second', '*.ok')",
                       (str(data_dir),))[0] == (
            f'source "second" can take the files of source "deleter": "{data_dir}" is the '
            'directory of both, and the file name "a.csv.ok" matches both "*.ok" and '
            '"*.csv.ok"')
        # alter_source is held to the same rule, and leaves the source as it was.
        assert refusal(cluster, "SELECT ingest.alter_source('texts', pattern => '*.c*')")[0] == (
            f'source "texts" can take the files of source "deleter": "{data_dir}" is the '
            'directory of both, and the file name "a.csv" matches both "*.c*" and "*.csv"')
        assert cluster.scalar("SELECT pattern FROM ingest.sources WHERE name = 'texts'") == "*.txt"
        # A source whose directory is where another moves its files takes them there.
        cluster.query("SELECT ingest.alter_source('texts', options => %s)",
                      ('{"on_success": "move", "archive_directory": "%s"}' % archive_dir,))
        assert refusal(cluster, "SELECT ingest.create_source('second', %s, 'second', '*.txt')",
                       (str(archive_dir),))[0] == (
            f'source "second" can take the files of source "texts": "{archive_dir}" is the '
            'directory of source "second" and the archive_directory of source "texts", and the '
            'file name "a.txt" matches both "*.txt" and "*.txt"')
        cluster.query("SELECT ingest.create_source('second', %s, 'second', '*.csv')",
                      (str(archive_dir),))
        assert cluster.scalar("SELECT count(*) FROM ingest.sources") == 3

        write_files(data_dir, "d", 3, 1000)
        for f in range(3):
            (data_dir / f"d{f}.csv.ok").touch()
        write_files(data_dir, "t", 2, 1000, "txt")
        cluster.query("SELECT ingest.start()")
        for source in ("deleter", "texts", "second"):
            wait_idle(cluster, source)
        loaded_exactly_once(cluster, "deleter", 3000)
        loaded_exactly_once(cluster, "texts", 2000)
        assert cluster.scalar("SELECT count(*) FROM second") == 0
        assert sorted(os.listdir(data_dir)) == []
        assert sorted(os.listdir(archive_dir)) == ["inbox", "t0.txt", "t1.txt"]
    finally:
        cluster.query("SELECT ingest.drop_source(name) FROM ingest.sources")
        cluster.query("DROP TABLE deleter, texts, second")


@pytest.fixture
def other_database(cluster):
    cluster.query("CREATE DATABASE other")
    cluster.query("CREATE EXTENSION pg_ingest", dbname="other")
    yield "other"
    cluster.query("DROP DATABASE other WITH (FORCE)")


def status(cluster, source, dbname):
    return cluster.query("SELECT state, last_error FROM ingest.status WHERE source = %s",
                         (source,), dbname)[0]


def start_would_pass(cluster, name, dbname):
    """Whether ingest.start(name) passes its checks now (it is rolled back): a stopped source
    gives its claim back once its workers have left."""
    conn = cluster.connect(dbname, autocommit=False)
    try:
        conn.cursor().execute("SELECT ingest.start(%s)", (name,))
        return True
    except psycopg2.errors.ObjectInUse:
        return False
    finally:
        conn.rollback()
        conn.close()


def running_refusal(name, other, directory):
    return (f'source "{name}" can take the files of source "{other[0]}" of database '
            f'"{other[1]}": "{directory}" is the directory of both, and the file name "a.csv" '
            f'matches both "*.csv" and "*.csv"; source "{other[0]}" of database "{other[1]}" is '
            'started, and a file is loaded by one source only: stop one of them, or give them '
            f"patterns that no file name matches both, or other directories; then run "
            f"ingest.start('{name}')")


def test_two_databases_on_one_directory_load_each_file_once(cluster, data_dir, other_database):
    sources = {"postgres": "here", other_database: "there"}
    try:
        for dbname, name in sources.items():
            cluster.query(f"CREATE TABLE {name} (id bigint PRIMARY KEY, note text)", dbname=dbname)
            cluster.query("SELECT ingest.create_source(%s, %s, %s, '*.csv', 500, "
                          "'{\"on_success\": \"delete\"}')", (name, str(data_dir), name), dbname)

        # One started: ingest.start refuses the other, naming it, its database and the fix.
        cluster.query("SELECT ingest.start('here')")
        cluster.worker_pid("here")
        assert refusal(cluster, "SELECT ingest.start('there')", dbname=other_database)[0] == \
            running_refusal("there", ("here", "postgres"), data_dir)
        cluster.query("SELECT ingest.stop('here')")
        wait_until(lambda: start_would_pass(cluster, "there", other_database), 60,
                   "here's claim gone")

        # Both started at once, before either worker runs: one worker claims the files, the other
        # fails its source, saying why in ingest.status.
        connections = [cluster.connect(dbname, autocommit=False) for dbname in sources]
        for conn, name in zip(connections, sources.values()):
            conn.cursor().execute("SELECT ingest.start(%s)", (name,))
        for conn in connections:
            conn.commit()
            conn.close()

        def settled():
            states = {db: status(cluster, name, db) for db, name in sources.items()}
            failed = [db for db, (state, _) in states.items() if state == "failed"]
            running = [db for db, (state, _) in states.items() if state in ("idle", "loading")]
            return (failed[0], running[0], states) if len(failed) == len(running) == 1 else None
        loser_db, winner_db, states = wait_until(settled, 60, "one source running, one failed")
        loser, winner = sources[loser_db], sources[winner_db]
        assert states[loser_db][1] == running_refusal(loser, (winner, winner_db), data_dir)

        # The winner loads every file through kill -9s and an immediate stop; the claims are made
        # again after each restart, and the failed source stays failed and loads nothing.
        write_files(data_dir, "f", FILES, LINES)
        rows = FILES * LINES

        def loaded():
            return cluster.scalar(f"SELECT count(*) FROM {winner}", dbname=winner_db)
        for share in (0.1, 0.3):
            wait_until(lambda: loaded() >= share * rows, 180, f"{share:.0%} loaded", interval=0.005)
            cluster.kill_workers(winner, dbname=winner_db)
            assert status(cluster, loser, loser_db)[0] == "failed"
        wait_until(lambda: loaded() >= 0.5 * rows, 180, "50% loaded", interval=0.005)
        cluster.stop("immediate")
        cluster.start()
        cluster.worker_pid(winner, dbname=winner_db, timeout=60)
        wait_idle(cluster, winner, dbname=winner_db)
        loaded_exactly_once(cluster, winner, rows, winner_db)
        assert cluster.scalar(f"SELECT count(*) FROM {loser}", dbname=loser_db) == 0
        assert cluster.scalar("SELECT count(*) FROM ingest.files", dbname=loser_db) == 0
        assert status(cluster, loser, loser_db) == \
            ("failed", running_refusal(loser, (winner, winner_db), data_dir))
        assert os.listdir(data_dir) == []

        # A stopped source gives its claim back: the other now starts and takes new files.
        cluster.query("SELECT ingest.stop(%s)", (winner,), winner_db)
        wait_until(lambda: start_would_pass(cluster, loser, loser_db), 60,
                   "the winner's claim gone")
        cluster.query("SELECT ingest.start(%s)", (loser,), loser_db)
        write_files(data_dir, "g", 1, 1000)
        wait_idle(cluster, loser, dbname=loser_db)
        assert cluster.query(f"SELECT count(*), count(DISTINCT id) FROM {loser}",
                             dbname=loser_db) == [(1000, 1000)]
        assert cluster.scalar(f"SELECT count(*) FROM {winner}", dbname=winner_db) == rows
        cluster.query("SELECT ingest.stop(%s)", (loser,), loser_db)
    finally:
        cluster.query("SELECT ingest.drop_source('here')")
        cluster.query("DROP TABLE here")


def test_two_sessions_cannot_create_overlapping_sources_at_once(cluster, data_dir):
    cluster.query("CREATE TABLE concurrent (id bigint PRIMARY KEY, note text)")
    first = cluster.connect(autocommit=False)
    try:
        first.cursor().execute("SELECT ingest.create_source('first', %s, 'concurrent')",
                               (str(data_dir),))
        # The second waits for the first's lock on ingest.sources, then sees its source.
        outcome = {}

        def create_second():
            try:
                cluster.query("SELECT ingest.create_source('second', %s, 'concurrent', 'b*')",
                              (str(data_dir),))
            except psycopg2.Error as error:
                outcome["error"] = error.diag.message_primary
        second = threading.Thread(target=create_second)
        second.start()
        wait_until(lambda: cluster.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE '%create_source(''second''%'"), 60, "the second session to wait")
        first.commit()
        second.join(60)
        assert outcome == {"error": f'source "second" can take the files of source "first": '
                                    f'"{data_dir}" is the directory of both, and the file name '
                                    '"b.csv" matches both "b*" and "*.csv"'}
        assert cluster.query("SELECT name FROM ingest.sources") == [("first",)]
    finally:
        first.close()
        cluster.query("SELECT ingest.drop_source(name) FROM ingest.sources")
        cluster.query("DROP TABLE concurrent")


def test_overlapping_sources_from_before_the_check_are_refused_when_they_start(cluster, data_dir):
    """Sources recorded before create_source checked overlaps (an updated catalog keeps them):
    the claims hold them to the rule when they start, in one database too."""
    cluster.query("CREATE TABLE older (id bigint PRIMARY KEY, note text)")
    try:
        for name in ("old_a", "old_b"):
            cluster.query("INSERT INTO ingest.sources (name, directory, target, pattern, "
                          "batch_size, options, owner) VALUES (%s, %s, 'older', '*.csv', 100, "
                          "ingest._default_options(), 'postgres')", (name, str(data_dir)))
        cluster.query("SELECT ingest.start('old_a')")
        cluster.worker_pid("old_a")
        primary = refusal(cluster, "SELECT ingest.start('old_b')")[0]
        assert primary == (
            f'source "old_b" can take the files of source "old_a": "{data_dir}" is the directory '
            'of both, and the file name "a.csv" matches both "*.csv" and "*.csv"; source "old_a" '
            'is started, and a file is loaded by one source only: stop one of them, or give them '
            "patterns that no file name matches both, or other directories; then run "
            "ingest.start('old_b')")
        write_files(data_dir, "o", 2, 500)
        wait_idle(cluster, "old_a")
        loaded_exactly_once(cluster, "older", 1000)
        assert cluster.query("SELECT source, count(*) FROM ingest.files GROUP BY source") == \
            [("old_a", 2)]
    finally:
        cluster.query("SELECT ingest.drop_source(name) FROM ingest.sources")
        cluster.query("DROP TABLE older")


def test_a_source_waits_for_its_directory_before_it_claims_it(cluster, data_dir):
    """A claim names the directory by inode: while the directory is missing, the worker takes no
    file and says why."""
    cluster.query("CREATE TABLE waiting (id bigint PRIMARY KEY, note text)")
    try:
        cluster.query("SELECT ingest.create_source('waiting', %s, 'waiting')", (str(data_dir),))
        data_dir.rmdir()
        cluster.query("SELECT ingest.start('waiting')")
        wait_until(lambda: status(cluster, "waiting", "postgres") == (
            "retrying", f'could not read directory "{data_dir}": No such file or directory'),
            60, "the source to wait for its directory")
        data_dir.mkdir()
        shutil.chown(data_dir, "postgres", "postgres")
        write_files(data_dir, "w", 1, 100)
        wait_until(lambda: cluster.scalar("SELECT count(*) FROM waiting") == 100, 60,
                   "the file loaded")
        wait_idle(cluster, "waiting")
        loaded_exactly_once(cluster, "waiting", 100)
    finally:
        cluster.query("SELECT ingest.drop_source('waiting')")
        cluster.query("DROP TABLE waiting")
