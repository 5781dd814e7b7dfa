"""Small files share a batch: files whole in one plain span load in one COPY and one transaction
with the open files after them, while their headers match and the batch has room."""
import os
import time

from conftest import wait_idle, wait_until, write_csv_atomically


def write_old_files(directory, files):
    """Writes {name: (header, lines)} with mtimes a minute old, so that the worker's first scan
    takes them all at once (a file found by a scan must be unmodified for a poll interval)."""
    past = time.time() - 60
    for name, (header, lines) in files.items():
        write_csv_atomically(directory, name, header, lines)
        os.utime(directory / name, (past, past))


def batches_of(cluster, source):
    """The files grouped by the transaction that finished them (one now() per transaction)."""
    return [names for (names,) in cluster.query(
        "SELECT array_agg(file_name ORDER BY file_name) FROM ingest.files WHERE source = %s "
        "GROUP BY finished_at ORDER BY min(file_name)", (source,))]


def committed_batches(cluster, source, files):
    def counted():
        done, batches = cluster.query(
            "SELECT files_done, batches FROM ingest.metrics WHERE source = %s", (source,))[0]
        return (done, batches) if done >= files else None
    return wait_until(counted, 30, f"{files} files counted in ingest.metrics")


def load(cluster, data_dir, source, table, files, batch_size=10000):
    cluster.query(f"CREATE TABLE {table} (id bigint PRIMARY KEY, note text)")
    write_old_files(data_dir, files)
    cluster.query("SELECT ingest.create_source(%s, %s, %s, batch_size => %s)",
                  (source, str(data_dir), table, batch_size))
    cluster.query("SELECT ingest.start(%s)", (source,))
    wait_idle(cluster, source)


def drop(cluster, source, table):
    cluster.query("SELECT ingest.drop_source(%s)", (source,))
    cluster.query(f"DROP TABLE {table}")


def three_rows(first):
    return ("id,note", [f"{i},n{i}" for i in range(first, first + 3)])


def test_twenty_small_files_load_in_one_transaction(cluster, data_dir):
    files = {f"f{n:02d}.csv": three_rows(n * 10) for n in range(20)}
    load(cluster, data_dir, "shared", "shared", files)
    assert cluster.query("SELECT count(*), count(DISTINCT id) FROM shared") == [(60, 60)]
    assert cluster.query(
        "SELECT count(*), sum(rows_loaded), sum(rows_rejected) FROM ingest.files "
        "WHERE source = 'shared' AND status = 'done' AND byte_offset = file_size") == [(20, 60, 0)]
    assert batches_of(cluster, "shared") == [sorted(files)]
    assert committed_batches(cluster, "shared", 20) == (20, 1)
    # Every file is announced, and says whose batch it joined.
    log = cluster.log()
    for n in range(1, 20):
        assert (f'loaded file "f{n:02d}.csv": 3 rows, 0 rejected, in the batch of "f00.csv"'
                in log)
    drop(cluster, "shared", "shared")


def test_batch_size_bounds_a_shared_batch(cluster, data_dir):
    # 3 + 3 rows fit in 7, a third file would not: pairs.
    files = {f"f{n}.csv": three_rows(n * 10) for n in range(10)}
    load(cluster, data_dir, "paired", "paired", files, batch_size=7)
    assert cluster.scalar("SELECT count(*) FROM paired") == 30
    assert batches_of(cluster, "paired") == [[f"f{n}.csv", f"f{n + 1}.csv"]
                                             for n in range(0, 10, 2)]
    assert committed_batches(cluster, "paired", 10) == (10, 5)
    drop(cluster, "paired", "paired")


def test_a_file_with_another_header_begins_a_batch_of_its_own(cluster, data_dir):
    files = {f"f{n}.csv": three_rows(n * 10) for n in range(6)}
    files["f3.csv"] = ("note,id", [f"n{i},{i}" for i in range(30, 33)])
    load(cluster, data_dir, "headed", "headed", files)
    assert cluster.query("SELECT id, note FROM headed WHERE id BETWEEN 30 AND 32 ORDER BY id") == \
        [(30, "n30"), (31, "n31"), (32, "n32")]
    assert cluster.scalar("SELECT count(*) FROM headed") == 18
    assert batches_of(cluster, "headed") == [["f0.csv", "f1.csv", "f2.csv"],
                                             ["f3.csv"], ["f4.csv", "f5.csv"]]
    drop(cluster, "headed", "headed")


def test_a_row_the_batch_copy_refuses_makes_its_files_load_one_by_one(cluster, data_dir):
    files = {f"f{n}.csv": three_rows(n * 10) for n in range(10)}
    # Line 3 of f6.csv repeats a key of f2.csv: the shared COPY fails on it.
    files["f6.csv"] = ("id,note", ["60,n60", "61,n61", "21,again"])
    load(cluster, data_dir, "refused", "refused", files)
    assert cluster.query("SELECT count(*), count(DISTINCT id) FROM refused") == [(29, 29)]
    assert cluster.query("SELECT note FROM refused WHERE id = 21") == [("n21",)]
    assert cluster.query(
        "SELECT file_name, line_number, raw_line, sqlstate FROM ingest.rejects "
        "WHERE source = 'refused'") == [("f6.csv", 4, "21,again", "23505")]
    assert cluster.query(
        "SELECT file_name, status, rows_loaded, rows_rejected FROM ingest.files "
        "WHERE source = 'refused' ORDER BY file_name") == \
        [(f"f{n}.csv", "done", 2 if n == 6 else 3, 1 if n == 6 else 0) for n in range(10)]
    # Nothing of the refused batch stayed: every file committed on its own.
    assert batches_of(cluster, "refused") == [[f"f{n}.csv"] for n in range(10)]
    assert committed_batches(cluster, "refused", 10) == (10, 10)
    drop(cluster, "refused", "refused")


def test_a_copy_in_the_same_batch_is_a_duplicate(cluster, data_dir):
    files = {"f0.csv": three_rows(0), "f1.csv": three_rows(10), "f2.csv": three_rows(0),
             "f3.csv": three_rows(30)}
    load(cluster, data_dir, "copied", "copied", files)
    assert cluster.scalar("SELECT count(*) FROM copied") == 9
    assert cluster.query(
        "SELECT f.file_name, f.status, o.file_name FROM ingest.files f "
        "LEFT JOIN ingest.files o ON o.file_id = f.duplicate_of "
        "WHERE f.source = 'copied' ORDER BY f.file_name") == \
        [("f0.csv", "done", None), ("f1.csv", "done", None), ("f2.csv", "duplicate", "f0.csv"),
         ("f3.csv", "done", None)]
    assert batches_of(cluster, "copied") == [sorted(files)]
    assert 'file "f2.csv" is a duplicate of "f0.csv", not loaded' in cluster.log()
    drop(cluster, "copied", "copied")
