"""pg_ingest vs server-side COPY on the same eventgen data; driven by bench/run.sh.

Environment: SCALE (1.0), BATCH (batch_size of the sources, 1000), LAT_FILES (50), SEED (42).
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from conftest import Cluster, postgres_dir  # noqa: E402

EVENTGEN = ROOT / "build" / "eventgen"
SCALE = float(os.environ.get("SCALE", "1"))
BATCH = int(os.environ.get("BATCH", "1000"))
SEED = int(os.environ.get("SEED", "42"))
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


def vm_hwm_kb(pid):
    """(VmHWM, RssAnon) in kB. VmHWM counts the shared_buffers pages the process touched;
    RssAnon (current, not peak) is the worker's private memory."""
    got = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(":")[0]
        if key in ("VmHWM", "RssAnon"):
            got[key] = int(line.split()[1])
    return got.get("VmHWM"), got.get("RssAnon")


def run_copy(cur, table, files):
    t0 = time.monotonic()
    for f in files:
        cur.execute(f"COPY {table} FROM %s WITH (FORMAT csv, HEADER true)", (str(f),))
    return time.monotonic() - t0


def run_ingest(cluster, cur, source, table, src_dir: Path, work: Path):
    run_dir = work / f"dir_{source}"
    subprocess.run(["cp", "-al", str(src_dir), str(run_dir)], check=True)
    shutil.chown(run_dir, "postgres", "postgres")
    cur.execute("SELECT ingest.create_source(%s, %s, %s, 'user_events_*.csv', %s)",
                (source, str(run_dir), table, BATCH))
    t0 = time.monotonic()
    cur.execute("SELECT ingest.start(%s)", (source,))
    cur.execute("SELECT ingest.wait_idle(%s, '600s')", (source,))
    ok = cur.fetchone()[0]
    secs = time.monotonic() - t0
    assert ok is True, f"{source}: wait_idle returned {ok}"
    pid = cluster.worker_pid(source)
    hwm = vm_hwm_kb(pid)
    cur.execute("SELECT count(*) FILTER (WHERE status <> 'done'), coalesce(sum(rows_rejected), 0) "
                "FROM ingest.files WHERE source = %s", (source,))
    not_done, rejected = cur.fetchone()
    assert not_done == 0 and rejected == 0, f"{source}: {not_done} files not done, {rejected} rejects"
    cur.execute("SELECT ingest.stop(%s)", (source,))
    cur.execute("SELECT ingest.drop_source(%s)", (source,))
    shutil.rmtree(run_dir, ignore_errors=True)
    return secs, hwm


def latency(cluster, cur, work: Path):
    staging = postgres_dir("pg_ingest_bench_lat_src_")
    watched = postgres_dir("pg_ingest_bench_lat_")
    try:
        files = gen(staging, LAT_FILES, 1000, SEED + 100)
        make_table(cur, "lat_events", pk=True)
        cur.execute("SELECT ingest.create_source('lat', %s, 'lat_events', 'user_events_*.csv', %s)",
                    (str(watched), BATCH))
        cur.execute("SELECT ingest.start('lat')")
        cluster.worker_pid("lat")
        cur.execute("SELECT ingest.wait_idle('lat', '60s')")
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


def main():
    work = Path(tempfile.mkdtemp(prefix="pg_ingest_bench_"))
    work.chmod(0o755)
    data_root = postgres_dir("pg_ingest_bench_data_")
    cluster = None
    try:
        cluster = Cluster(work / "pg", ["synchronous_commit = on"])
        conn = cluster.connect()
        cur = conn.cursor()
        cur.execute("CREATE EXTENSION pg_ingest")
        print(f"# SCALE={SCALE} BATCH={BATCH} SEED={SEED}; cluster: cluster.sh defaults "
              f"(fsync = off) + synchronous_commit = on", flush=True)
        datasets = []
        for i, (label, nfiles, events) in enumerate(shapes()):
            d = data_root / label
            t0 = time.monotonic()
            files = gen(d, nfiles, events, SEED + i)
            shutil.chown(d, "postgres", "postgres")
            print(f"# generated {label}: {nfiles} file(s) x {events} rows in {time.monotonic() - t0:.2f} s",
                  flush=True)
            datasets.append((label, d, files, nfiles * events))

        results = []
        n = 0
        for pk in (True, False):
            for label, d, files, rows in datasets:
                case = f"{'pk' if pk else 'noidx'} {label}"
                n += 1
                table = f"b{n}_copy"
                make_table(cur, table, pk)
                cur.execute("CHECKPOINT")
                secs = run_copy(cur, table, files)
                cur.execute(f"SELECT count(*) FROM {table}")
                assert cur.fetchone()[0] == rows
                cur.execute(f"DROP TABLE {table}")
                copy_secs = secs
                results.append((case, "COPY", rows, secs, None, 1.0))
                print(f"# {case} COPY {secs:.3f} s", flush=True)

                table = f"b{n}_ingest"
                make_table(cur, table, pk)
                cur.execute("CHECKPOINT")
                secs, hwm = run_ingest(cluster, cur, f"bench{n}", table, d, work)
                cur.execute(f"SELECT count(*) FROM {table}")
                got = cur.fetchone()[0]
                assert got == rows, f"{case}: {got} rows, expected {rows}"
                cur.execute(f"DROP TABLE {table}")
                results.append((case, "pg_ingest", rows, secs, hwm, secs / copy_secs if copy_secs else None))
                print(f"# {case} pg_ingest {secs:.3f} s", flush=True)

        print()
        print("| case | method | rows | seconds | rows/s | time vs COPY | worker VmHWM | worker RssAnon |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for case, method, rows, secs, hwm, ratio in results:
            rate = rows / secs if secs > 0 else float("inf")
            hwm_s = " | ".join(f"{v / 1024:.1f} MiB" if v else "" for v in (hwm or (None, None)))
            ratio_s = f"{ratio:.2f}x" if ratio is not None else ""
            print(f"| {case} | {method} | {rows} | {secs:.3f} | {rate:,.0f} | {ratio_s} | {hwm_s} |")
        print()
        p50, p99, mx = latency(cluster, cur, work)
        print(f"file-to-commit latency, {LAT_FILES} files of 1000 rows renamed one at a time (pk table): "
              f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {mx:.1f} ms")
        conn.close()
    finally:
        if cluster:
            cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(data_root, ignore_errors=True)


if __name__ == "__main__":
    main()
