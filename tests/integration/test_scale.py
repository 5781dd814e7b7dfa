"""Scale: a directory with 100,000 already loaded files, and a worker's memory on a 1 GB file."""
import os
import re
import shutil
import threading
import time

from conftest import postgres_dir, wait_idle, wait_until, write_csv_atomically

KNOWN_FILES = 100_000


def test_new_files_are_loaded_among_100000_loaded_ones(cluster):
    """How soon they load is measured by bench/bench.py (crowded_latency), not here."""
    directory = postgres_dir("pg_ingest_scale_")
    try:
        cluster.query("CREATE TABLE crowded (id bigint, payload text)")
        cluster.query("SELECT ingest.create_source('crowded', %s, 'crowded')", (str(directory),))
        names, sizes, mtimes, inodes = [], [], [], []
        for i in range(KNOWN_FILES):
            name = f"old_{i:06d}.csv"
            path = directory / name
            path.write_text(f"id,payload\n{i},x\n")
            st = os.lstat(path)
            names.append(name)
            sizes.append(st.st_size)
            mtimes.append(st.st_mtime_ns // 1000)
            inodes.append(st.st_ino)
        # As if they had been loaded: the catalog knows every one of them as done, with its
        # checksum (each new file is looked up among them for dedupe).
        cluster.query(
            "INSERT INTO ingest.files (source, file_name, file_size, file_mtime, file_inode, "
            "  status, rows_loaded, finished_at, content_sha256) "
            "SELECT 'crowded', n, s, pg_catalog.to_timestamp(0) + m * interval '1 microsecond', "
            "  i, 'done', 1, now(), sha256(convert_to(n, 'UTF8')) "
            "FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::bigint[]) AS f(n, s, m, i)",
            (names, sizes, mtimes, inodes))

        cluster.query("SELECT ingest.start('crowded')")
        cluster.worker_pid("crowded")
        wait_until(lambda: cluster.scalar(
            "SELECT state FROM ingest.status WHERE source = 'crowded'") == "idle", 60,
            "the worker to be idle")
        # Settled: nothing was registered again, nothing loaded.
        time.sleep(2)
        assert cluster.scalar("SELECT count(*) FROM ingest.files WHERE source = 'crowded'") == \
            KNOWN_FILES
        assert cluster.scalar("SELECT count(*) FROM crowded") == 0

        for n in range(5):
            name = f"new_{n}.csv"
            write_csv_atomically(directory, name, "id,payload", [f"{n},new"])
            wait_until(lambda: cluster.query(
                "SELECT status FROM ingest.files WHERE source = 'crowded' AND file_name = %s",
                (name,)) == [("done",)], 60, f"{name} to be done")
        assert cluster.query("SELECT id FROM crowded ORDER BY id") == [(n,) for n in range(5)]
    finally:
        cluster.query("SELECT ingest.drop_source('crowded')")
        shutil.rmtree(directory, ignore_errors=True)


def private_memory_kb(pid):
    """The worker's anonymous resident memory: its heap, not shared buffers or mapped files."""
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^RssAnon:\s+(\d+) kB", f.read(), re.M).group(1))


def write_gigabyte_file(path, rows, row_bytes):
    """rows lines of id,payload; every 100,003rd line has a third field and is rejected."""
    payload = "p" * (row_bytes - 16)
    with open(path, "w") as f:
        f.write("id,payload\n")
        block = []
        for i in range(rows):
            extra = ",extra" if i % 100_003 == 50_000 else ""
            block.append(f"{i:012d},{payload}{extra}\n")
            if len(block) == 10_000:
                f.write("".join(block))
                block.clear()
        f.write("".join(block))


def test_worker_memory_stays_under_64_mb_on_a_1_gb_file_with_batch_size_100000(cluster):
    directory = postgres_dir("pg_ingest_big_")
    staging = postgres_dir("pg_ingest_big_staging_")
    rows, row_bytes = 1_000_000, 1024
    try:
        cluster.query("CREATE UNLOGGED TABLE big (id bigint, payload text)")
        cluster.query("SELECT ingest.create_source('big', %s, 'big', batch_size => 100000)",
                      (str(directory),))
        write_gigabyte_file(staging / "big.csv", rows, row_bytes)
        assert (staging / "big.csv").stat().st_size >= 1_000_000_000
        shutil.chown(staging / "big.csv", "postgres", "postgres")
        cluster.query("SELECT ingest.start('big')")
        pid = cluster.worker_pid("big")

        peak = [private_memory_kb(pid)]
        done = threading.Event()

        def sample():
            while not done.is_set():
                try:
                    peak[0] = max(peak[0], private_memory_kb(pid))
                except (FileNotFoundError, ProcessLookupError):
                    return
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            os.rename(staging / "big.csv", directory / "big.csv")
            wait_idle(cluster, "big", timeout="600s")
        finally:
            done.set()
            sampler.join()
        print(f"\nworker RssAnon peak {peak[0] / 1024:.1f} MiB on a {rows}-row, 1 GB file")
        bad = sum(1 for i in range(rows) if i % 100_003 == 50_000)
        assert cluster.query(
            "SELECT status, rows_loaded, rows_rejected FROM ingest.files WHERE source = 'big'") == \
            [("done", rows - bad, bad)]
        assert cluster.scalar("SELECT count(*) FROM big") == rows - bad
        assert peak[0] < 64 * 1024, f"worker RssAnon peaked at {peak[0]} kB"
    finally:
        cluster.query("SELECT ingest.drop_source('big')")
        cluster.query("DROP TABLE IF EXISTS big")
        shutil.rmtree(directory, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
