"""Completeness markers: with ready_marker, a data file waits outside the catalog until its
marker appears, and on_success deletes or moves the marker with its file."""
import shutil
import time

import psycopg2
import pytest

from conftest import wait_idle, wait_until, write_csv_atomically


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
    wait_until(lambda: sorted(p.name for p in data_dir.iterdir()) == ["a.csv"])

    (data_dir / ".a.csv.done.tmp").write_bytes(b"")
    (data_dir / ".a.csv.done.tmp").rename(data_dir / "a.csv.done")
    wait_idle(cluster, "marked")
    assert cluster.query("SELECT file_name, status, rows_loaded FROM ingest.files "
                         "WHERE source = 'marked' ORDER BY file_name") == [
        ("a.csv", "done", 2), ("b.csv", "done", 1)]
    assert cluster.query("SELECT id FROM marked ORDER BY id") == [(1,), (2,), (3,)]
    # Markers are never data, though pattern '*' matches them; on_success deletes both pairs.
    wait_until(lambda: list(data_dir.iterdir()) == [])
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
        wait_until(lambda: sorted(p.name for p in archive.iterdir()) ==
              ["part-0.csv", "part-0.csv_SUCCESS"])
        assert list(data_dir.iterdir()) == []
        assert cluster.query("SELECT id FROM marked_moved") == [(1,)]
        cluster.query("SELECT ingest.stop('marked_moved')")
    finally:
        shutil.rmtree(archive, ignore_errors=True)


@pytest.mark.parametrize("options", ['{"ready_marker": ""}', '{"ready_marker": "x/.done"}',
                                     '{"ready_marker": 1}'])
def test_invalid_ready_markers_are_refused(cluster, data_dir, options):
    cluster.query("CREATE TABLE IF NOT EXISTS refused_markers (id bigint)")
    with pytest.raises(psycopg2.Error) as error:
        cluster.query("SELECT ingest.create_source('refused', %s, 'refused_markers', "
                      "options => %s)", (str(data_dir), options))
    assert error.value.diag.message_primary == \
        'option "ready_marker" must be null or a file name suffix of 1 to 200 bytes without "/"'
