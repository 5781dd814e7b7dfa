"""Notifications, completeness markers and content dedupe (issue 9)."""
import hashlib
import json
import select
import shutil
import time

import psycopg2
import pytest

from conftest import wait_idle, write_csv_atomically


def notifications(conn, count, timeout=60):
    """The payloads of the next `count` pg_ingest notifications on a LISTENing connection, then
    whatever else arrives within a further half second (so an extra one is seen)."""
    received = []
    deadline = time.time() + timeout
    while len(received) < count and time.time() < deadline:
        select.select([conn], [], [], max(0.0, deadline - time.time()))
        conn.poll()
        while conn.notifies:
            note = conn.notifies.pop(0)
            assert note.channel == "pg_ingest"
            received.append(json.loads(note.payload))
    settle = time.time() + 0.5
    while time.time() < settle:
        select.select([conn], [], [], max(0.0, settle - time.time()))
        conn.poll()
        while conn.notifies:
            received.append(json.loads(conn.notifies.pop(0).payload))
    return received


def until(condition, timeout=60):
    """Polls condition() until it is true; fails after timeout seconds."""
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "condition not reached in time"
        time.sleep(0.02)


def listen(cluster):
    conn = cluster.connect()
    conn.cursor().execute("LISTEN pg_ingest")
    return conn


def test_one_notification_per_file_with_its_counts(cluster, data_dir):
    cluster.query("CREATE TABLE notified (id bigint PRIMARY KEY, note text)")
    cluster.query("SELECT ingest.create_source('notified', %s, 'notified', batch_size => 2)",
                  (str(data_dir),))
    listener = listen(cluster)
    cluster.query("SELECT ingest.start('notified')")
    write_csv_atomically(data_dir, "a.csv", "id,note", ["1,one", "2,two", "3,three"])
    write_csv_atomically(data_dir, "b.csv", "id,note", ["4,four", "x,bad", "5", "6,six", "1,again"])
    write_csv_atomically(data_dir, "c.csv", "id,note", ["7,seven"])
    wait_idle(cluster, "notified")
    assert notifications(listener, 3) == [
        {"source": "notified", "file": "a.csv", "status": "done", "rows_loaded": 3,
         "rows_rejected": 0},
        {"source": "notified", "file": "b.csv", "status": "done", "rows_loaded": 2,
         "rows_rejected": 3},
        {"source": "notified", "file": "c.csv", "status": "done", "rows_loaded": 1,
         "rows_rejected": 0}]
    assert cluster.scalar("SELECT count(*) FROM notified") == 6
    listener.close()
    cluster.query("SELECT ingest.stop('notified')")


def test_failed_and_skipped_files_are_notified(cluster, data_dir):
    cluster.query("CREATE TABLE notified_bad (id bigint)")
    cluster.query("SELECT ingest.create_source('notified_bad', %s, 'notified_bad', batch_size => 1, "
                  "options => '{\"max_rejects_per_file\": 0}')", (str(data_dir),))
    listener = listen(cluster)
    cluster.query("SELECT ingest.start('notified_bad')")
    write_csv_atomically(data_dir, "a.csv", "id", ["1", "2", "x", "3"])
    write_csv_atomically(data_dir, "b.csv", "colour", ["red"])
    wait_idle(cluster, "notified_bad")
    cluster.query("SELECT ingest.skip_file('notified_bad', 'b.csv')")
    assert notifications(listener, 3) == [
        {"source": "notified_bad", "file": "a.csv", "status": "failed", "rows_loaded": 2,
         "rows_rejected": 0},
        {"source": "notified_bad", "file": "b.csv", "status": "failed", "rows_loaded": 0,
         "rows_rejected": 0},
        {"source": "notified_bad", "file": "b.csv", "status": "skipped", "rows_loaded": 0,
         "rows_rejected": 0}]
    listener.close()
    cluster.query("SELECT ingest.stop('notified_bad')")


def test_same_content_under_another_name_is_a_duplicate(cluster, data_dir):
    cluster.query("CREATE TABLE deduped (id bigint, note text)")
    cluster.query("SELECT ingest.create_source('deduped', %s, 'deduped')", (str(data_dir),))
    listener = listen(cluster)
    cluster.query("SELECT ingest.start('deduped')")
    write_csv_atomically(data_dir, "a.csv", "id,note", ["1,one", "2,two"])
    wait_idle(cluster, "deduped")
    # The same bytes under another name; then the same header with another body.
    write_csv_atomically(data_dir, "b.csv", "id,note", ["1,one", "2,two"])
    write_csv_atomically(data_dir, "c.csv", "id,note", ["1,one", "2,TWO"])
    wait_idle(cluster, "deduped")
    content = b"id,note\n1,one\n2,two\n"
    rows = cluster.query(
        "SELECT f.file_name, f.status, f.rows_loaded, f.rows_rejected, o.file_name, "
        "  f.content_sha256 FROM ingest.files f LEFT JOIN ingest.files o ON o.file_id = f.duplicate_of "
        "WHERE f.source = 'deduped' ORDER BY f.file_name")
    assert [row[:5] for row in rows] == [
        ("a.csv", "done", 2, 0, None), ("b.csv", "duplicate", 0, 0, "a.csv"),
        ("c.csv", "done", 2, 0, None)]
    assert [bytes(row[5]) for row in rows] == [
        hashlib.sha256(content).digest(), hashlib.sha256(content).digest(),
        hashlib.sha256(content.replace(b"two", b"TWO")).digest()]
    assert cluster.query("SELECT id, note FROM deduped ORDER BY id, note") == [
        (1, "one"), (1, "one"), (2, "TWO"), (2, "two")]
    assert [(n["file"], n["status"], n["rows_loaded"]) for n in notifications(listener, 3)] == [
        ("a.csv", "done", 2), ("b.csv", "duplicate", 0), ("c.csv", "done", 2)]
    assert "file \"b.csv\" is a duplicate of \"a.csv\", not loaded" in cluster.log()
    listener.close()
    cluster.query("SELECT ingest.stop('deduped')")


def test_dedupe_off_loads_the_same_content_again(cluster, data_dir):
    cluster.query("CREATE TABLE undeduped (id bigint)")
    cluster.query("SELECT ingest.create_source('undeduped', %s, 'undeduped', "
                  "options => '{\"dedupe\": false}')", (str(data_dir),))
    cluster.query("SELECT ingest.start('undeduped')")
    write_csv_atomically(data_dir, "a.csv", "id", ["1"])
    wait_idle(cluster, "undeduped")
    write_csv_atomically(data_dir, "b.csv", "id", ["1"])
    wait_idle(cluster, "undeduped")
    digest = hashlib.sha256(b"id\n1\n").digest()
    assert [(name, status, bytes(sha)) for name, status, sha in cluster.query(
        "SELECT file_name, status, content_sha256 FROM ingest.files WHERE source = 'undeduped' "
        "ORDER BY file_name")] == [("a.csv", "done", digest), ("b.csv", "done", digest)]
    assert cluster.scalar("SELECT count(*) FROM undeduped") == 2
    cluster.query("SELECT ingest.stop('undeduped')")


def test_a_file_waits_for_its_ready_marker(cluster, data_dir):
    cluster.query("CREATE TABLE marked (id bigint)")
    cluster.query("SELECT ingest.create_source('marked', %s, 'marked', pattern => '*', "
                  "options => '{\"ready_marker\": \".done\", \"on_success\": \"delete\"}')",
                  (str(data_dir),))
    cluster.query("SELECT ingest.start('marked')")
    write_csv_atomically(data_dir, "a.csv", "id", ["1", "2"])
    write_csv_atomically(data_dir, "b.csv", "id", ["3"])
    (data_dir / "b.csv.done").write_bytes(b"")
    # b.csv is complete and loads (and goes, with its marker); a.csv has no marker yet: it is
    # not arrived, so wait_idle does not wait for it, and it stays out of the catalog however
    # many rescans (every second) pass.
    wait_idle(cluster, "marked")
    assert cluster.query("SELECT file_name, status, rows_loaded FROM ingest.files "
                         "WHERE source = 'marked'") == [("b.csv", "done", 1)]
    deadline = time.time() + 3
    while time.time() < deadline:
        assert cluster.scalar("SELECT count(*) FROM ingest.files WHERE source = 'marked' "
                              "AND file_name = 'a.csv'") == 0
        time.sleep(0.1)
    assert cluster.query("SELECT id FROM marked") == [(3,)]
    # on_success acts after the commit: b.csv and its marker go soon after.
    until(lambda: sorted(p.name for p in data_dir.iterdir()) == ["a.csv"])

    (data_dir / ".a.csv.done.tmp").write_bytes(b"")
    (data_dir / ".a.csv.done.tmp").rename(data_dir / "a.csv.done")
    wait_idle(cluster, "marked")
    assert cluster.query("SELECT file_name, status, rows_loaded FROM ingest.files "
                         "WHERE source = 'marked' ORDER BY file_name") == [
        ("a.csv", "done", 2), ("b.csv", "done", 1)]
    assert cluster.query("SELECT id FROM marked ORDER BY id") == [(1,), (2,), (3,)]
    # Markers are never data, though pattern '*' matches them; on_success deletes both pairs.
    until(lambda: list(data_dir.iterdir()) == [])
    cluster.query("SELECT ingest.stop('marked')")


def test_ready_marker_moves_with_its_file(cluster, data_dir):
    archive = data_dir.parent / (data_dir.name + "_archive")
    archive.mkdir()
    shutil.chown(archive, "postgres", "postgres")
    try:
        cluster.query("CREATE TABLE marked_moved (id bigint)")
        cluster.query("SELECT ingest.create_source('marked_moved', %s, 'marked_moved', "
                      "options => jsonb_build_object('ready_marker', '_SUCCESS', "
                      "'on_success', 'move', 'archive_directory', %s::text))",
                      (str(data_dir), str(archive)))
        cluster.query("SELECT ingest.start('marked_moved')")
        write_csv_atomically(data_dir, "part-0.csv", "id", ["1"])
        (data_dir / "part-0.csv_SUCCESS").write_bytes(b"")
        wait_idle(cluster, "marked_moved")
        until(lambda: sorted(p.name for p in archive.iterdir()) ==
              ["part-0.csv", "part-0.csv_SUCCESS"])
        assert list(data_dir.iterdir()) == []
        assert cluster.query("SELECT id FROM marked_moved") == [(1,)]
        cluster.query("SELECT ingest.stop('marked_moved')")
    finally:
        shutil.rmtree(archive, ignore_errors=True)


@pytest.mark.parametrize("options, message", [
    ('{"ready_marker": ""}',
     'option "ready_marker" must be null or a file name suffix of 1 to 200 bytes without "/"'),
    ('{"ready_marker": "x/.done"}',
     'option "ready_marker" must be null or a file name suffix of 1 to 200 bytes without "/"'),
    ('{"ready_marker": 1}',
     'option "ready_marker" must be null or a file name suffix of 1 to 200 bytes without "/"'),
    ('{"dedupe": "yes"}', 'option "dedupe" must be true or false'),
])
def test_invalid_feature_options_are_refused(cluster, data_dir, options, message):
    cluster.query("CREATE TABLE IF NOT EXISTS refused_options (id bigint)")
    with pytest.raises(psycopg2.Error) as error:
        cluster.query("SELECT ingest.create_source('refused', %s, 'refused_options', "
                      "options => %s)", (str(data_dir), options))
    assert error.value.diag.message_primary == message
