"""Content dedupe: the same bytes under another name are a duplicate of the done file, unless
the source's dedupe option is off."""
import hashlib

import psycopg2
import pytest

from conftest import listen, notifications, wait_idle, write_csv_atomically


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


def test_a_dedupe_that_is_not_a_boolean_is_refused(cluster, data_dir):
    cluster.query("CREATE TABLE refused_dedupe (id bigint)")
    with pytest.raises(psycopg2.Error) as error:
        cluster.query("SELECT ingest.create_source('refused', %s, 'refused_dedupe', "
                      "options => '{\"dedupe\": \"yes\"}')", (str(data_dir),))
    assert error.value.diag.message_primary == 'option "dedupe" must be true or false'
