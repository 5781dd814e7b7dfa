"""ingest.status.last_error tells the present: it shows an error while its cause lasts, and clears
once the source is healthy again (a round without error and no failed file)."""
import os

from conftest import new_source, wait_idle, wait_until, write_csv_atomically


def last_error(cluster, source):
    return cluster.scalar("SELECT last_error FROM ingest.status WHERE source = %s", (source,))


def shown_error(cluster, source):
    return wait_until(lambda: last_error(cluster, source), 30, f"an error of source {source}")


def test_a_directory_back_clears_the_error(cluster, data_dir):
    new_source(cluster, data_dir, "wandering", start=True)
    cluster.worker_pid("wandering")
    away = data_dir.with_name(data_dir.name + ".away")
    os.rename(data_dir, away)
    try:
        assert shown_error(cluster, "wandering") == \
            f"cannot open directory {data_dir}: No such file or directory"
    finally:
        os.rename(away, data_dir)
    wait_until(lambda: last_error(cluster, "wandering") is None, 30, "the error to clear")
    write_csv_atomically(data_dir, "a.csv", "id,note", ["1,one"])
    wait_idle(cluster, "wandering")
    assert cluster.query("SELECT state, last_error FROM ingest.status WHERE source = 'wandering'") \
        == [("idle", None)]
    cluster.query("SELECT ingest.stop('wandering')")


def test_a_failed_file_shows_until_no_file_is_failed(cluster, data_dir):
    new_source(cluster, data_dir, "headed", start=True)
    write_csv_atomically(data_dir, "a.csv", "id,wrong", ["1,one"])
    wait_idle(cluster, "headed")
    error = cluster.scalar("SELECT error FROM ingest.files WHERE source = 'headed'")
    assert error == ('source "headed", file "a.csv": header of file "a.csv" names columns that '
                     "table public.headed does not have: wrong")
    assert last_error(cluster, "headed") == error
    # Healthy rounds and another file loaded: a failed file is still there, and so is the error.
    write_csv_atomically(data_dir, "b.csv", "id,note", ["2,two"])
    wait_idle(cluster, "headed")
    assert cluster.query("SELECT file_name, status FROM ingest.files WHERE source = 'headed' "
                         "ORDER BY file_name") == [("a.csv", "failed"), ("b.csv", "done")]
    assert last_error(cluster, "headed") == error
    cluster.query("SELECT ingest.skip_file('headed', 'a.csv')")
    wait_until(lambda: last_error(cluster, "headed") is None, 30, "the error to clear")
    assert cluster.scalar("SELECT state FROM ingest.status WHERE source = 'headed'") == "idle"
    cluster.query("SELECT ingest.stop('headed')")


def test_an_unreadable_file_retried_once_readable_clears_the_error(cluster, data_dir):
    new_source(cluster, data_dir, "locked")
    write_csv_atomically(data_dir, "a.csv", "id,note", ["1,one", "2,two"])
    os.chmod(data_dir / "a.csv", 0)
    cluster.query("SELECT ingest.start('locked')")
    wait_idle(cluster, "locked")
    error = cluster.scalar("SELECT error FROM ingest.files WHERE source = 'locked'")
    assert error == (f'source "locked", file "a.csv": could not open file "{data_dir}/a.csv": '
                     "Permission denied")
    assert last_error(cluster, "locked") == error
    os.chmod(data_dir / "a.csv", 0o644)
    cluster.query("SELECT ingest.retry_file('locked', 'a.csv')")
    wait_idle(cluster, "locked")
    assert cluster.query("SELECT count(*) FROM locked") == [(2,)]
    wait_until(lambda: last_error(cluster, "locked") is None, 30, "the error to clear")
    cluster.query("SELECT ingest.stop('locked')")
