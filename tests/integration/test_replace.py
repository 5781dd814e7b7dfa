"""on_file_change = replace after a file is done: the re-exported daily snapshot. The snapshot is
written again in place, or as a temporary file renamed over it; its new rows replace the old in
one transaction. A kill -9 in the middle of the replace and then an immediate stop in the middle
of the next attempt leave the old rows intact each time, and a session that polls all along
never sees anything but exactly one whole version."""
import os
import threading
import time

import psycopg2
import pytest

from conftest import new_source, wait_idle, wait_until
from test_file_changes import make_committed_batches_durable
from test_file_failures import Gate

OLD_ROWS, NEW_ROWS = 150_000, 200_000
OPTIONS = '{"on_file_change": "replace", "file_column": "_file"}'


def snapshot(rows, note):
    return b"id,note\n" + b"".join(b"%d,%s\n" % (i, note) for i in range(1, rows + 1))


OLD, NEW = [("v1", OLD_ROWS)], [("v2", NEW_ROWS)]


class Reader(threading.Thread):
    """Polls the target's versions until stopped: what it saw, and anything that was not
    exactly one whole version."""

    def __init__(self, cluster, table):
        super().__init__(daemon=True)
        self.cluster, self.table = cluster, table
        self.seen, self.wrong, self.done = set(), [], threading.Event()

    def run(self):
        conn = None
        while not self.done.is_set():
            try:
                conn = conn or self.cluster.connect(attempts=1)
                with conn.cursor() as cur:
                    cur.execute(f"SELECT note, count(*) FROM {self.table} GROUP BY note "
                                "ORDER BY note")
                    versions = cur.fetchall()
                if versions in (OLD, NEW):
                    self.seen.add(versions[0][0])
                else:
                    self.wrong.append(versions)
            except psycopg2.Error:  # the server restarting after a crash
                conn = None
                time.sleep(0.05)

    def stop(self):
        self.done.set()
        self.join(30)


def replacing(cluster, name):
    """The worker is in the middle of the replace: it has inserted batches of the new version
    in the transaction that has not committed."""
    return cluster.scalar("SELECT count(*) FROM ingest.workers WHERE source = %s "
                          "AND state = 'loading' AND current_offset > 0", (name,)) == 1 and \
        cluster.scalar("SELECT bool_or(replay_requested) FROM ingest.files WHERE source = %s",
                       (name,))


@pytest.mark.parametrize("how", ["in_place", "renamed"])
def test_a_re_exported_snapshot_replaces_its_rows_through_a_kill_9_and_an_immediate_stop(
        cluster, data_dir, how):
    name = f"snapshot_{how}"
    new_source(cluster, data_dir, name, columns="id bigint, note text, _file bigint",
               batch_size=10_000, options=OPTIONS)
    path = data_dir / "snap.csv"
    (data_dir / ".snap.tmp").write_bytes(snapshot(OLD_ROWS, b"v1"))
    os.rename(data_dir / ".snap.tmp", path)
    cluster.query("SELECT ingest.start(%s)", (name,))
    wait_idle(cluster, name)
    old_id = cluster.scalar("SELECT file_id FROM ingest.files WHERE source = %s", (name,))
    # Each batch's statement takes 0.1 s more: the replace lasts a while.
    cluster.query(f"""CREATE FUNCTION {name}_linger() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep(0.1); RETURN NULL; END $$;
        CREATE TRIGGER linger AFTER INSERT ON {name}
            FOR EACH STATEMENT EXECUTE FUNCTION {name}_linger()""")
    reader = Reader(cluster, name)
    reader.start()
    wait_until(lambda: reader.seen == {"v1"}, 30, "the reader to see the old version")
    if how == "in_place":
        with open(path, "r+b") as f:
            f.write(snapshot(NEW_ROWS, b"v2"))
    else:
        (data_dir / ".snap.tmp").write_bytes(snapshot(NEW_ROWS, b"v2"))
        os.rename(data_dir / ".snap.tmp", path)
    wait_until(lambda: replacing(cluster, name), 60, "the replace to be under way")
    cluster.kill_workers(name)
    wait_until(lambda: replacing(cluster, name), 60, "the replace to be under way again")
    cluster.stop("immediate")
    cluster.start()
    wait_idle(cluster, name)
    wait_until(lambda: "v2" in reader.seen or reader.wrong, 30, "the reader to see the new one")
    reader.stop()
    assert reader.wrong == []
    assert reader.seen == {"v1", "v2"}
    assert cluster.query(f"SELECT count(*), count(DISTINCT id), min(id), max(id), "
                         f"count(*) FILTER (WHERE note = 'v2') FROM {name}") == [
        (NEW_ROWS, NEW_ROWS, 1, NEW_ROWS, NEW_ROWS)]
    versions = cluster.query(
        "SELECT file_id, status, rows_loaded, file_size, replaced_by, replay_requested, error "
        "FROM ingest.files WHERE source = %s ORDER BY file_id", (name,))
    size = path.stat().st_size
    if how == "in_place":  # the same file, its new version recorded
        assert versions == [(old_id, "done", NEW_ROWS, size, None, False, None)]
    else:  # a new file under the name, loaded in place of the old one, which is kept as history
        new_id = versions[1][0]
        assert versions == [
            (old_id, "replaced", OLD_ROWS, len(snapshot(OLD_ROWS, b"v1")), new_id, False, None),
            (new_id, "done", NEW_ROWS, size, None, False, None)]
    assert cluster.scalar(f"SELECT count(DISTINCT _file) FROM {name}") == 1
    assert cluster.scalar(f"SELECT min(_file) FROM {name}") == versions[-1][0]
    cluster.query("SELECT ingest.stop(%s)", (name,))


def test_a_file_renamed_over_a_loading_one_replaces_its_committed_rows_after_a_kill_9(
        cluster, data_dir):
    # The old version is held in its fourth batch when the new one is renamed over it (the
    # worker registers that one once it is free, after the kill); its rest cannot be read (its name holds the new file): it fails saying so, and
    # the new version's load replaces its committed rows and marks it replaced.
    name = "renamed_mid_load"
    new_source(cluster, data_dir, name, columns="id bigint, note text, _file bigint",
               batch_size=1000, options=OPTIONS)
    path = data_dir / "snap.csv"
    (data_dir / ".snap.tmp").write_bytes(snapshot(100_000, b"v1"))
    os.rename(data_dir / ".snap.tmp", path)
    gate = Gate(cluster, name, at_id=3001, key=52701)
    cluster.query("SELECT ingest.start(%s)", (name,))
    gate.wait_until_reached()
    old_id = cluster.scalar("SELECT file_id FROM ingest.files WHERE source = %s", (name,))
    old_inode = path.stat().st_ino
    (data_dir / ".snap.tmp").write_bytes(snapshot(5000, b"v2"))
    os.rename(data_dir / ".snap.tmp", path)
    make_committed_batches_durable(cluster)
    cluster.kill_workers(name)  # ends the gate's session too
    wait_idle(cluster, name)
    new_id = cluster.scalar("SELECT max(file_id) FROM ingest.files WHERE source = %s", (name,))
    assert cluster.query(f"SELECT count(*), count(DISTINCT id), max(id), min(note), max(note), "
                         f"min(_file), max(_file) FROM {name}") == [
        (5000, 5000, 5000, "v2", "v2", new_id, new_id)]
    assert cluster.query(
        "SELECT file_id, status, rows_loaded, replaced_by, error FROM ingest.files "
        "WHERE source = %s ORDER BY file_id", (name,)) == [
        (old_id, "replaced", 3000, new_id,
         f'source "{name}", file "snap.csv", line 3002: file "snap.csv" was replaced by another '
         f"file (inode {path.stat().st_ino}, was {old_inode}), which is loaded as a new version "
         f"of the name; the rest of this one is lost, as ingest.skip_file would give it up"),
        (new_id, "done", 5000, None, None)]
    cluster.query("SELECT ingest.stop(%s)", (name,))
