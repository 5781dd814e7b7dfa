"""pg_ingest.files_retention: the rows of old done, duplicate, skipped and replaced files are
purged in small transactions by worker 0, except those of files still in the directory (not a
replaced version's: the newest version of its name stands for it); a purged done
file's content still makes a later copy a duplicate; a purge does not hold up loading."""
import os
import shutil

from conftest import new_source, postgres_dir, wait_idle, wait_until, write_csv_atomically

# 250,000 rows are 500 purge steps, each its own transaction: room enough for loads and kills
# mid-purge (a million took minutes of the suite to prove the same).
PURGED_ROWS = 250_000
PRESENT_ROWS = 100  # rows of old done files still in the directory: never purged


def set_retention(cluster, value):
    cluster.query(f"ALTER SYSTEM SET pg_ingest.files_retention = '{value}'")
    cluster.query("SELECT pg_reload_conf()")
    wait_until(lambda: cluster.scalar("SHOW pg_ingest.files_retention") == value, 60,
               f"files_retention = {value}")


def file_rows(cluster, source):
    return cluster.scalar("SELECT count(*) FROM ingest.files WHERE source = %s", (source,))


def statuses(cluster, source):
    return dict(cluster.query("SELECT file_name, status FROM ingest.files WHERE source = %s",
                              (source,)))


def test_purge_keeps_files_in_the_directory_and_the_content_of_done_ones(cluster, data_dir):
    new_source(cluster, data_dir, "kept", options='{"dedupe": true}', start=True)
    try:
        write_csv_atomically(data_dir, "a.csv", "id,note", ["1,a", "2,a"])
        write_csv_atomically(data_dir, "b.csv", "id,note", ["3,b", "4,b"])
        wait_until(lambda: statuses(cluster, "kept") == {"a.csv": "done", "b.csv": "done"}, 30,
                   "a.csv and b.csv done")
        b_content = (data_dir / "b.csv").read_bytes()
        (data_dir / "b.csv").unlink()
        log_offset = cluster.log_size()
        set_retention(cluster, "1s")
        # b.csv left the directory: its row goes, its content stays; a.csv is still there.
        wait_until(lambda: statuses(cluster, "kept") == {"a.csv": "done"}, 30, "b.csv purged")
        assert cluster.query(
            "SELECT file_name, file_size, content_sha256 = sha256(%s) FROM ingest.purged_contents "
            "WHERE source = 'kept'", (b_content,)) == [("b.csv", len(b_content), True)]
        wait_until(lambda: 'source "kept": purged 1 rows of ingest.files' in
                   cluster.log(since=log_offset), 30, "the purge's log line")

        # A new worker knows a.csv only from its row: it does not load it again.
        cluster.kill_workers("kept")
        wait_idle(cluster, "kept")
        assert statuses(cluster, "kept") == {"a.csv": "done"}
        assert cluster.query("SELECT count(*), count(DISTINCT id) FROM kept") == [(4, 4)]

        # b.csv's content under another name is a duplicate of the purged b.csv.
        (data_dir / ".c.tmp").write_bytes(b_content)
        os.rename(data_dir / ".c.tmp", data_dir / "c.csv")
        wait_until(lambda: statuses(cluster, "kept").get("c.csv") == "duplicate", 30,
                   "c.csv a duplicate")
        assert cluster.query("SELECT duplicate_of FROM ingest.files WHERE file_name = 'c.csv'") == \
            [(None,)]
        assert cluster.query("SELECT count(*), count(DISTINCT id) FROM kept") == [(4, 4)]
    finally:
        set_retention(cluster, "-1")
        cluster.query("SELECT ingest.drop_source('kept')")
    assert cluster.scalar("SELECT count(*) FROM ingest.purged_contents") == 0


def test_purge_takes_the_replaced_versions_of_a_name_still_in_the_directory(cluster, data_dir):
    new_source(cluster, data_dir, "snapshots", columns="id bigint, note text, _file bigint",
               options='{"on_file_change": "replace", "file_column": "_file"}', start=True)
    try:
        write_csv_atomically(data_dir, "s.csv", "id,note", ["1,a", "2,a"])
        wait_idle(cluster, "snapshots")
        write_csv_atomically(data_dir, "s.csv", "id,note", ["1,b", "2,b", "3,b"])
        wait_until(lambda: sorted(cluster.query(
            "SELECT status FROM ingest.files WHERE source = 'snapshots'")) ==
            [("done",), ("replaced",)], 30, "the first version to be replaced")
        set_retention(cluster, "1s")
        wait_until(lambda: file_rows(cluster, "snapshots") == 1, 30, "the replaced row purged")
        assert statuses(cluster, "snapshots") == {"s.csv": "done"}
        # The worker knows s.csv by its newest version: nothing loads again.
        cluster.kill_workers("snapshots")
        wait_idle(cluster, "snapshots")
        assert statuses(cluster, "snapshots") == {"s.csv": "done"}
        assert cluster.query("SELECT count(*), count(DISTINCT id), min(note) FROM snapshots") == \
            [(3, 3, "b")]
    finally:
        set_retention(cluster, "-1")
        cluster.query("SELECT ingest.drop_source('snapshots')")


def insert_old_files(cluster, directory):
    """PURGED_ROWS done files that left the directory long ago, and PRESENT_ROWS done files
    still in it, known by their real identity (as if loaded), all finished a day ago."""
    names, sizes, inodes = [], [], []
    for i in range(PRESENT_ROWS):
        path = directory / f"present_{i:03d}.csv"
        path.write_text(f"id,payload\n{i},x\n")
        st = os.lstat(path)
        names.append(path.name)
        sizes.append(st.st_size)
        inodes.append(st.st_ino)
    mtimes = [os.lstat(directory / n).st_mtime_ns // 1000 for n in names]
    cluster.query(
        "INSERT INTO ingest.files (source, file_name, file_size, file_mtime, file_inode, status, "
        "  rows_loaded, finished_at, content_sha256) "
        "SELECT 'crowd', n, s, pg_catalog.to_timestamp(0) + m * interval '1 microsecond', i, "
        "  'done', 1, now() - interval '1 day', sha256(convert_to(n, 'UTF8')) "
        "FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::bigint[]) AS f(n, s, m, i)",
        (names, sizes, mtimes, inodes))
    cluster.query(
        "INSERT INTO ingest.files (source, file_name, file_size, file_mtime, file_inode, status, "
        "  rows_loaded, finished_at, content_sha256) "
        "SELECT 'crowd', 'gone_' || lpad(g::text, 7, '0') || '.csv', 100, pg_catalog.to_timestamp(0), "
        "  g, CASE WHEN g %% 10 = 0 THEN 'skipped' ELSE 'done' END, 1, now() - interval '1 day', "
        "  CASE WHEN g %% 10 = 0 THEN NULL ELSE sha256(int8send(g %% %s)) END "
        "FROM generate_series(1, %s) g", (PURGED_ROWS // 2, PURGED_ROWS))
    cluster.query("VACUUM ANALYZE ingest.files")


def load_one(cluster, directory, name, row_id):
    """Writes a one-row file and waits until it is done. How soon is a benchmark case
    (bench/bench.py, purge_latency), not asserted here."""
    write_csv_atomically(directory, name, "id,payload", [f"{row_id},new"])
    wait_until(lambda: cluster.query(
        "SELECT status FROM ingest.files WHERE source = 'crowd' AND file_name = %s",
        (name,)) == [("done",)], 60, f"{name} to be done")


def test_a_quarter_million_rows_are_purged_without_holding_up_loading(cluster):
    directory = postgres_dir("pg_ingest_retention_")
    try:
        cluster.query("CREATE TABLE crowd (id bigint PRIMARY KEY, payload text)")
        cluster.query("SELECT ingest.create_source('crowd', %s, 'crowd')", (str(directory),))
        insert_old_files(cluster, directory)
        cluster.query("SELECT ingest.start('crowd')")
        cluster.worker_pid("crowd")
        wait_idle(cluster, "crowd")
        # Retention forever: new files load among a quarter million rows.
        for n in range(5):
            load_one(cluster, directory, f"new_{n}.csv", 1000 + n)

        set_retention(cluster, "1h")
        n = 0
        # Files arriving while the purge runs are done while it still runs: it holds up no load.
        while file_rows(cluster, "crowd") > PURGED_ROWS // 2 and n < 20:
            load_one(cluster, directory, f"during_{n}.csv", 2000 + n)
            n += 1
        assert n >= 3, "the purge ended before three files arrived"
        assert file_rows(cluster, "crowd") > PRESENT_ROWS + 5 + n, "the purge was not under way"
        # kill -9 mid-purge, three times, and an immediate shutdown: a step is one transaction.
        for _ in range(3):
            cluster.kill_workers("crowd")
        cluster.stop("immediate")
        cluster.start()
        cluster.worker_pid("crowd", timeout=60)
        wait_until(lambda: file_rows(cluster, "crowd") == PRESENT_ROWS + 5 + n, 600,
                   "the purge to end")
        # Kept: the files still in the directory, and the new ones (in it, and recent).
        assert cluster.scalar(
            "SELECT count(*) FROM ingest.files WHERE source = 'crowd' AND file_name LIKE 'gone_%%'") == 0
        assert cluster.scalar(
            "SELECT count(*) FROM ingest.files WHERE source = 'crowd' "
            "AND file_name LIKE 'present_%%' AND status = 'done'") == PRESENT_ROWS
        # The done ones' contents, once each: 112,500 distinct checksums among 225,000 done rows
        # (g % 125,000 for the g not divisible by 10); skipped rows have none.
        distinct = PURGED_ROWS * 9 // 20
        assert cluster.query(
            "SELECT count(*), count(DISTINCT content_sha256) FROM ingest.purged_contents "
            "WHERE source = 'crowd'") == [(distinct, distinct)]
        wait_idle(cluster, "crowd")
        # Nothing loaded twice: the 5 + n new files, none of the present ones.
        assert cluster.query("SELECT count(*), count(DISTINCT id) FROM crowd") == [(5 + n, 5 + n)]
    finally:
        set_retention(cluster, "-1")
        cluster.query("SELECT ingest.drop_source('crowd')")
        cluster.query("DROP TABLE IF EXISTS crowd")
        shutil.rmtree(directory, ignore_errors=True)
