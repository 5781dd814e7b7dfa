"""pg_ingest vs server-side COPY on the same eventgen data; driven by bench/run.sh.

Environment: SCALE (1.0), BATCH (batch_size of the sources; unset: create_source's default),
WORKERS (the parallel cases' workers, 2), SPLIT_MB (12), LAT_FILES (50), SEED (42), FSYNC (on: production
durability, fsync = on, synchronous_commit = on, full_page_writes = on; off: the test clusters'
fsync = off, to compare with earlier results).
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from conftest import Cluster, postgres_dir  # noqa: E402
from latency_cases import latency_cases  # noqa: E402

EVENTGEN = ROOT / "build" / "eventgen"
SCALE = float(os.environ.get("SCALE", "1"))
BATCH = int(os.environ["BATCH"]) if os.environ.get("BATCH") else None
WORKERS = int(os.environ.get("WORKERS", "2"))
SEED = int(os.environ.get("SEED", "42"))
FSYNC = os.environ.get("FSYNC", "on")
if FSYNC not in ("on", "off"):
    sys.exit(f"FSYNC must be on or off, not {FSYNC!r}")
# Later lines of postgresql.conf win over cluster.sh's fsync = off.
DURABILITY = [f"fsync = {FSYNC}", "synchronous_commit = on", "full_page_writes = on"]
# The split case's split_bytes, in MB: the 1,000,000-row file (about 117 MB) in about ten
# chunks, enough for the workers to stay busy until its end.
SPLIT_MB = int(os.environ.get("SPLIT_MB", "12"))
LAT_FILES = int(os.environ.get("LAT_FILES", str(max(3, round(50 * min(SCALE, 1))))))


def shapes():
    """(label, files, events per file); SCALE shrinks the row count of a single file, else the file count."""
    out = []
    for files, events in ((1, 1_000_000), (100, 10_000), (1000, 100)):
        if files == 1:
            f, e = 1, max(1, round(events * SCALE))
        else:
            f, e = max(1, round(files * SCALE)), events
        out.append((f"{f}x{e}", f, e))
    return out


def gen(out: Path, files: int, events: int, seed: int):
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(EVENTGEN), "--out", str(out), "--files", str(files), "--events", str(events),
                    "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL)
    names = sorted(p for p in out.iterdir() if p.name.startswith("user_events_") and p.name.endswith(".csv"))
    assert len(names) == files, (len(names), files)
    return names


def ddl(table):
    return subprocess.run([str(EVENTGEN), "--print-ddl", "--table", table], check=True,
                          capture_output=True, text=True).stdout


def make_table(cur, table, pk):
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(ddl(table))
    if not pk:
        cur.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
                    (table,))
        (conname,) = cur.fetchone()
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{conname}"')
        cur.execute("SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", (table,))
        assert cur.fetchone()[0] == 0


def rss_anon_kb(pid):
    """The process's private (anonymous) resident memory: its heap, not shared buffers."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """User + system CPU time of a process so far: on a shared, noisy machine a steadier measure
    of the work done than wall time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(cur, source):
    cur.execute("SELECT pg_stat_clear_snapshot()")
    cur.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s "
                "OR application_name LIKE %s", (f"pg_ingest: {source}", f"pg_ingest: {source} #%"))
    return [r[0] for r in cur.fetchall()]


class PeakMemory:
    """Samples the private memory of processes every 20 ms while a load runs."""

    def __init__(self):
        self.pids, self.peak_kb = [], 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._done.is_set():
            for pid in list(self.pids):
                try:
                    self.peak_kb = max(self.peak_kb, rss_anon_kb(pid))
                except (FileNotFoundError, ProcessLookupError):
                    pass
            time.sleep(0.02)

    def stop(self):
        self._done.set()
        self._thread.join()


def run_copy(cluster, table, files):
    """COPYs the files over a new connection: its backend starts as cold as a new source's worker
    (no shared buffer mapped yet; mapping them costs a page fault each, which on a VM is a
    visible share of a load)."""
    conn = cluster.connect()
    cur = conn.cursor()
    cur.execute("SELECT pg_backend_pid()")
    backend = cur.fetchone()[0]
    cpu0 = cpu_seconds(backend)
    t0 = time.monotonic()
    for f in files:
        cur.execute(f"COPY {table} FROM %s WITH (FORMAT csv, HEADER true)", (str(f),))
    result = time.monotonic() - t0, cpu_seconds(backend) - cpu0
    conn.close()
    return result


def run_ingest(cluster, cur, source, table, src_dir: Path, work: Path, workers=1, extra_options=None):
    """Loads src_dir's files with one source; returns (seconds, worker CPU seconds, worker peak
    private memory in kB). The clock starts at ingest.start, with the files already there."""
    run_dir = work / f"dir_{source}"
    subprocess.run(["cp", "-al", str(src_dir), str(run_dir)], check=True)
    shutil.chown(run_dir, "postgres", "postgres")
    options = json.dumps({**({"workers": workers} if workers > 1 else {}), **(extra_options or {})})
    if BATCH:
        cur.execute("SELECT ingest.create_source(%s, %s, %s, 'user_events_*.csv', %s, %s)",
                    (source, str(run_dir), table, BATCH, options))
    else:
        cur.execute("SELECT ingest.create_source(%s, %s, %s, 'user_events_*.csv', "
                    "options => %s)", (source, str(run_dir), table, options))
    memory = PeakMemory()
    t0 = time.monotonic()
    cur.execute("SELECT ingest.start(%s)", (source,))
    conn2 = cluster.connect()
    cur2 = conn2.cursor()
    while len(memory.pids) < workers and time.monotonic() - t0 < 30:
        memory.pids = worker_pids(cur2, source)
        time.sleep(0.005)
    conn2.close()
    cur.execute("SELECT ingest.wait_idle(%s, '600s')", (source,))
    ok = cur.fetchone()[0]
    secs = time.monotonic() - t0
    memory.stop()
    assert ok is True, f"{source}: wait_idle returned {ok}"
    cpu = sum(cpu_seconds(pid) for pid in memory.pids)
    hwm = memory.peak_kb
    cur.execute("SELECT count(*) FILTER (WHERE status <> 'done'), coalesce(sum(rows_rejected), 0) "
                "FROM ingest.files WHERE source = %s", (source,))
    not_done, rejected = cur.fetchone()
    assert not_done == 0 and rejected == 0, f"{source}: {not_done} files not done, {rejected} rejects"
    cur.execute("SELECT ingest.stop(%s)", (source,))
    cur.execute("SELECT ingest.drop_source(%s)", (source,))
    shutil.rmtree(run_dir, ignore_errors=True)
    return secs, cpu, hwm


def latency(cluster, cur, work: Path):
    staging = postgres_dir("pg_ingest_bench_lat_src_")
    watched = postgres_dir("pg_ingest_bench_lat_")
    try:
        files = gen(staging, LAT_FILES, 1000, SEED + 100)
        make_table(cur, "lat_events", pk=True)
        cur.execute("SELECT ingest.create_source('lat', %s, 'lat_events', 'user_events_*.csv')",
                    (str(watched),))
        cur.execute("SELECT ingest.start('lat')")
        cluster.worker_pid("lat")
        # Watching the directory: a file renamed in before inotify watches is found by the
        # first rescan, and one found so must first be unmodified for a poll interval.
        deadline = time.monotonic() + 30
        while True:
            cur.execute("SELECT state FROM ingest.status WHERE source = 'lat'")
            if cur.fetchone()[0] == "idle":
                break
            assert time.monotonic() < deadline, "the latency source's worker is not idle"
            time.sleep(0.005)
        # As every case, from a checkpoint: the earlier cases' WAL has one under way otherwise,
        # and a commit in its sync phase waits (48-69 ms for one file in session 6's runs).
        cur.execute("CHECKPOINT")
        lat = []
        for f in files:
            started = time.monotonic()
            os.rename(f, watched / f.name)
            while True:
                cur.execute("SELECT status FROM ingest.files WHERE source = 'lat' AND file_name = %s",
                            (f.name,))
                row = cur.fetchone()
                if row and row[0] == "done":
                    break
                if time.monotonic() - started > 30:
                    raise AssertionError(f"{f.name} not loaded within 30 s")
                time.sleep(0.002)
            lat.append((time.monotonic() - started) * 1000)
        cur.execute("SELECT count(*) FROM lat_events")
        assert cur.fetchone()[0] == 1000 * LAT_FILES
        cur.execute("SELECT ingest.stop('lat')")
        cur.execute("SELECT ingest.drop_source('lat')")
        cur.execute("DROP TABLE lat_events")
        lat.sort()
        p99 = lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))]
        return statistics.median(lat), p99, max(lat)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(watched, ignore_errors=True)


REVENUE_TRANSFORM = """
WITH raw AS (INSERT INTO {raw} SELECT * FROM batch RETURNING category, event_time, price)
INSERT INTO {revenue} SELECT category, date_trunc('minute', event_time), count(*), sum(price)
FROM raw GROUP BY 1, 2
ON CONFLICT (category, minute) DO UPDATE SET events = {revenue}.events + excluded.events,
                                             amount = {revenue}.amount + excluded.amount"""


def transform_cases(cluster, cur, datasets, work):
    """Option transform (primary key tables, one worker) on the 1-file and 100-file shapes: the
    identity transform into a table like COPY's, and the per-minute revenue aggregate of
    docs/processing.md that also keeps the raw rows. The source's target is a table without
    index that only names the shape (it stays empty)."""
    print("\n| case | method | rows | seconds | rows/s | rows/s vs COPY | CPU s | work vs COPY (CPU) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for shape, label, d, files, rows in datasets[:2]:
        make_table(cur, "t_copy", pk=True)
        cur.execute("CHECKPOINT")
        copy_secs, copy_cpu = run_copy(cluster, "t_copy", files)
        cur.execute("DROP TABLE t_copy")
        print(f"| pk {label} | COPY | {rows} | {copy_secs:.3f} | {rows / copy_secs:,.0f} | 1.00x "
              f"| {copy_cpu:.2f} | |", flush=True)
        cases = (("identity transform", "INSERT INTO t_dest SELECT * FROM batch"),
                 ("revenue aggregate transform",
                  REVENUE_TRANSFORM.format(raw="t_dest", revenue="t_revenue")))
        for n, (method, transform) in enumerate(cases):
            make_table(cur, "t_shape", pk=False)
            make_table(cur, "t_dest", pk=True)
            cur.execute("CREATE TABLE t_revenue (category text, minute timestamptz, events bigint, "
                        "amount numeric, PRIMARY KEY (category, minute))")
            cur.execute("CHECKPOINT")
            secs, cpu, _ = run_ingest(cluster, cur, f"tbench{shape}{n}", "t_shape", d, work,
                                      extra_options={"transform": transform})
            cur.execute("SELECT count(*), count(DISTINCT event_id) FROM t_dest")
            assert cur.fetchone() == (rows, rows), f"{label} {method}: rows"
            cur.execute("SELECT count(*) FROM t_shape")
            assert cur.fetchone()[0] == 0
            for table in ("t_shape", "t_dest", "t_revenue"):
                cur.execute(f"DROP TABLE {table}")
            print(f"| pk {label} | pg_ingest, {method} | {rows} | {secs:.3f} | {rows / secs:,.0f} | "
                  f"{copy_secs / secs:.2f}x | {cpu:.2f} | {copy_cpu / cpu:.2f}x |", flush=True)


def main():
    work = Path(tempfile.mkdtemp(prefix="pg_ingest_bench_"))
    work.chmod(0o755)
    data_root = postgres_dir("pg_ingest_bench_data_")
    cluster = None
    try:
        cluster = Cluster(work / "pg", DURABILITY)
        conn = cluster.connect()
        cur = conn.cursor()
        cur.execute("CREATE EXTENSION pg_ingest")
        cur.execute("SELECT string_agg(name || ' = ' || setting, ', ' ORDER BY name) FROM pg_settings "
                    "WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')")
        print(f"# SCALE={SCALE} BATCH={BATCH or 'default'} WORKERS={WORKERS} SPLIT_MB={SPLIT_MB} SEED={SEED} FSYNC={FSYNC}; "
              f"cluster: {cur.fetchone()[0]}", flush=True)
        datasets = []
        for i, (label, nfiles, events) in enumerate(shapes()):
            d = data_root / label
            t0 = time.monotonic()
            files = gen(d, nfiles, events, SEED + i)
            shutil.chown(d, "postgres", "postgres")
            print(f"# generated {label}: {nfiles} file(s) x {events} rows in {time.monotonic() - t0:.2f} s",
                  flush=True)
            datasets.append((i, label, d, files, nfiles * events))

        if os.environ.get("TRANSFORM") == "only":
            transform_cases(cluster, cur, datasets, work)
            return
        results = []
        one_worker_rates = {}  # (pk, shape index) -> (label, pg_ingest rows/s with one worker)
        n = 0
        for pk in (True, False):
            for shape, label, d, files, rows in datasets:
                case = f"{'pk' if pk else 'noidx'} {label}"
                n += 1
                table = f"b{n}_copy"
                make_table(cur, table, pk)
                cur.execute("CHECKPOINT")
                copy_secs, copy_cpu = run_copy(cluster, table, files)
                cur.execute(f"SELECT count(*) FROM {table}")
                assert cur.fetchone()[0] == rows
                cur.execute(f"DROP TABLE {table}")
                results.append((case, "COPY", rows, copy_secs, copy_cpu, None, copy_secs, copy_cpu))
                print(f"# {case} COPY {copy_secs:.3f} s", flush=True)

                methods = [("pg_ingest", 1, None)]
                if shape == 1:  # the 100 x 10,000 shape
                    methods.append((f"pg_ingest, {WORKERS} workers", WORKERS, None))
                if shape == 0 and pk:  # one big file, split across the workers
                    methods.append((f"pg_ingest, {WORKERS} workers", WORKERS,
                                    {"split_bytes": SPLIT_MB << 20}))
                for method, workers, extra_options in methods:
                    n += 1
                    table = f"b{n}_ingest"
                    make_table(cur, table, pk)
                    cur.execute("CHECKPOINT")
                    secs, cpu, peak = run_ingest(cluster, cur, f"bench{n}", table, d, work, workers,
                                                 extra_options)
                    cur.execute(f"SELECT count(*), count(DISTINCT event_id) FROM {table}")
                    got = cur.fetchone()
                    assert got == (rows, rows), f"{case}: {got} rows, expected {rows}"
                    cur.execute(f"DROP TABLE {table}")
                    results.append((case, method, rows, secs, cpu, peak, copy_secs, copy_cpu))
                    if workers == 1:
                        one_worker_rates[(pk, shape)] = (label, rows / secs)
                    print(f"# {case} {method} {secs:.3f} s", flush=True)

        print()
        print("| case | method | rows | seconds | rows/s | rows/s vs COPY | CPU s | work vs COPY (CPU) "
              "| worker peak private memory |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for case, method, rows, secs, cpu, peak, copy_secs, copy_cpu in results:
            rate = rows / secs if secs > 0 else float("inf")
            speed = f"{copy_secs / secs:.2f}x" if method != "COPY" else "1.00x"
            work_ratio = f"{copy_cpu / cpu:.2f}x" if method != "COPY" and cpu else ""
            peak_s = f"{peak / 1024:.1f} MiB" if peak else ""
            print(f"| {case} | {method} | {rows} | {secs:.3f} | {rate:,.0f} | {speed} | {cpu:.2f} | "
                  f"{work_ratio} | {peak_s} |")
        for pk in (True, False):
            small, large = one_worker_rates[(pk, 2)], one_worker_rates[(pk, 0)]
            print(f"per-file overhead ({'pk' if pk else 'noidx'}): pg_ingest's rows/s on {small[0]} "
                  f"= {small[1] / large[1]:.2f}x its rows/s on {large[0]}")
        transform_cases(cluster, cur, datasets, work)
        print()
        p50, p99, mx = latency(cluster, cur, work)
        print(f"file-to-commit latency, {LAT_FILES} files of 1000 rows renamed one at a time (pk table): "
              f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {mx:.1f} ms")
        latency_cases(cluster)
        conn.close()
    finally:
        if cluster:
            cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(data_root, ignore_errors=True)


if __name__ == "__main__":
    main()
