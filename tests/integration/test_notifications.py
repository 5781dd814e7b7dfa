"""NOTIFY pg_ingest: one notification per file's final status, with its counts, sent in the
transaction that makes its rows visible."""
from conftest import listen, notifications, wait_idle, write_csv_atomically


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
