"""Rows/s into a Citus distributed table (hash by event_id, 32 shards on two worker nodes):
pg_ingest at batch_size 1,000, 10,000 and 100,000 against one plain server-side COPY per file,
the same generated files, in the same formation, fsync on. Prints a Markdown table.
Run by bench/citus.sh."""
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "citus"))
from citus_formation import Formation  # noqa: E402
from conftest import EVENTGEN, eventgen_ddl, wait_idle  # noqa: E402

FILES = int(os.environ.get("FILES", "4"))
# More postgresql.conf lines for every server, separated by ';' (e.g. citus.* settings).
EXTRA_CONF = tuple(line for line in os.environ.get("EXTRA_CONF", "").split(";") if line)
EVENTS = int(os.environ.get("EVENTS", "100000"))
BATCH_SIZES = (1000, 10000, 100000)


def distributed_table(coordinator, name):
    coordinator.query(eventgen_ddl().replace("CREATE TABLE user_events", f"CREATE TABLE {name}"))
    coordinator.query("SELECT create_distributed_table(%s, 'event_id')", (name,))


def plain_copy(coordinator, paths):
    distributed_table(coordinator, "plain_copy")
    started = time.monotonic()
    for path in paths:
        coordinator.query(f"COPY plain_copy FROM '{path}' WITH (FORMAT csv, HEADER)")
    seconds = time.monotonic() - started
    assert coordinator.scalar("SELECT count(*) FROM plain_copy") == FILES * EVENTS
    return seconds


def pg_ingest(formation, paths, batch_size):
    """A source of its own over hard links to the same files."""
    coordinator = formation.coordinator
    name = f"ingest_{batch_size}"
    data = formation.data_dir(f"data_{batch_size}")
    for path in paths:
        os.link(path, data / Path(path).name)
    distributed_table(coordinator, name)
    coordinator.query("SELECT ingest.create_source(%s, %s, %s, batch_size => %s)",
                      (name, str(data), name, batch_size))
    started = time.monotonic()
    coordinator.query("SELECT ingest.start(%s)", (name,))
    wait_idle(coordinator, name, "1800s")
    seconds = time.monotonic() - started
    assert coordinator.scalar(f"SELECT count(*) FROM {name}") == FILES * EVENTS
    coordinator.query("SELECT ingest.stop(%s)", (name,))
    return seconds


def main():
    formation = Formation(("fsync = on", *EXTRA_CONF))
    try:
        coordinator = formation.coordinator
        data = formation.data_dir("data")
        subprocess.run([str(EVENTGEN), "--out", str(data), "--events", str(EVENTS),
                        "--files", str(FILES), "--seed", "1"], check=True, capture_output=True)
        paths = sorted(str(p) for p in data.glob("*.csv"))
        rows = FILES * EVENTS
        results = [("plain `COPY` (one per file)", plain_copy(coordinator, paths))]
        for batch_size in BATCH_SIZES:
            results.append((f"pg_ingest, batch_size {batch_size:,}",
                            pg_ingest(formation, paths, batch_size)))
        version = coordinator.scalar("SELECT citus_version()")
        print(f"{rows:,} rows ({FILES} files x {EVENTS:,}), {version.split(',')[0]}, "
              f"{coordinator.scalar('SHOW server_version')}, fsync on"
              + "".join(f", {line}" for line in EXTRA_CONF))
        print("| load | seconds | rows/s | vs plain COPY |")
        print("|---|---|---|---|")
        plain = results[0][1]
        for what, seconds in results:
            print(f"| {what} | {seconds:.1f} | {rows / seconds:,.0f} | {plain / seconds:.2f} |")
    finally:
        formation.destroy()


if __name__ == "__main__":
    main()
