"""The acceptance matrix of issue 25 for on_file_change = fail and replace: a 2,000,000-row file is
changed mid-load in each way (touch, os.utime, an append, a same-size overwrite, a truncation
below the committed offset, an append to a file split among 3 workers), then the worker is
killed (kill -9). Afterwards count equals count distinct, the rows are exactly what the mode
promises, wait_idle returns true and the error is the documented one: with fail, the committed
rows and an error naming the fixes, which then give exact totals; with replace, exactly the
rows of the file's new version. Each change lands while the target's trigger holds the worker
inside the fourth batch's transaction (the gate of test_file_failures), so it is mid-load
without timing luck; the kill then rolls that batch back and ends the gate's session."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import new_source, wait_idle, wait_until
from test_file_changes import RESTORE, make_committed_batches_durable
from test_file_failures import Gate

LINES, BATCH, APPENDED, SPLIT_APPENDED, TRUNCATED = 2_000_000, 10_000, 100_000, 1000, 15_000
HEADER = b"id,note\n"
GATE_BATCH = 4  # the gate holds the worker in this batch: the ones before it are committed
COMMITTED = (GATE_BATCH - 1) * BATCH
OVERWRITTEN = range(101, 357)  # rows whose note the same-size overwrite changes: 2,560 bytes


def line(i, note=b"a"):
    return b"%07d,%s\n" % (i, note)


def content(first, last, note=b"a"):
    return b"".join(line(i, note) for i in range(first, last + 1))


def offset_after(rows):
    return len(HEADER) + 10 * rows


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    """The 2,000,000-row file (20 MB), generated once and copied for each case."""
    path = tmp_path_factory.mktemp("matrix") / "big.csv"
    path.write_bytes(HEADER + content(1, LINES))
    return path


def append(path, first, last):
    with open(path, "ab") as f:
        f.write(content(first, last))


def overwrite(path):
    with open(path, "r+b") as f:
        f.seek(offset_after(OVERWRITTEN[0] - 1))
        f.write(content(OVERWRITTEN[0], OVERWRITTEN[-1], b"b"))


# How each change is made, given the file's path.
CHANGES = {
    "touch": lambda path: subprocess.run(["touch", str(path)], check=True),
    "utime": lambda path: os.utime(path, (1_000_000_000, 1_000_000_000)),
    "append": lambda path: append(path, LINES + 1, LINES + APPENDED),
    "overwrite": overwrite,
    "truncate": lambda path: os.truncate(path, offset_after(TRUNCATED)),
    "split_append": lambda path: append(path, LINES + 1, LINES + SPLIT_APPENDED),
}


def start_and_change(cluster, data_dir, big_file, name, mode, change, key):
    """The source (`mode`), the file, the worker held in its fourth batch, the change, then
    kill -9 once what committed before is durable; the gate's trigger is dropped after."""
    options = {"fail": '"on_file_change": "fail"',
               "replace": '"on_file_change": "replace", "file_column": "_file"'}[mode]
    if change == "split_append":
        options += ', "workers": 3, "split_bytes": 4000000'
    new_source(cluster, data_dir, name, columns="id bigint, note text, _file bigint",
               batch_size=BATCH, options="{" + options + "}")
    tmp = data_dir / ".big.tmp"
    shutil.copyfile(big_file, tmp)
    tmp.rename(data_dir / "big.csv")
    gate = Gate(cluster, name, at_id=COMMITTED + 1, key=key)
    cluster.query("SELECT ingest.start(%s)", (name,))
    gate.wait_until_reached()
    assert cluster.scalar("SELECT status FROM ingest.files WHERE source = %s", (name,)) == "loading"
    original = (data_dir / "big.csv").read_bytes()
    CHANGES[change](data_dir / "big.csv")
    make_committed_batches_durable(cluster)
    cluster.kill_workers(name)  # the crash restart ends the gate's session too
    cluster.query(f"DROP TRIGGER gate ON {name}")
    return original


def files(cluster, name):
    return cluster.query("SELECT file_name, status, rows_loaded, error FROM ingest.files "
                         "WHERE source = %s ORDER BY file_id", (name,))


def rows(cluster, name):
    """count, count distinct, min and max of the ids, and how many rows have note b."""
    return cluster.query(f"SELECT count(*), count(DISTINCT id), min(id), max(id), "
                         f"count(*) FILTER (WHERE note = 'b') FROM {name}")[0]


def idle(cluster, name):
    wait_idle(cluster, name, "600s")


def retried(cluster, name):
    cluster.query("SELECT ingest.retry_file(%s, 'big.csv')", (name,))
    idle(cluster, name)


def prefix(name):
    return f'source "{name}", file "big.csv", line {COMMITTED + 2}: file "big.csv"'


def grew_error(name, size):
    return (f"{prefix(name)} grew from {offset_after(LINES)} to {size} bytes: ingest.retry_file "
            f"loads the rest from its committed offset {offset_after(COMMITTED)} exactly once, "
            f"or ingest.skip_file gives it up")


# What on_file_change = fail leaves after each change and the kill: the file's row, then what
# the documented fix loads. `None`: no change, the file loads whole.
def expect_fail(cluster, name, change, path, original):
    if change in ("touch", "utime"):
        idle(cluster, name)
        assert files(cluster, name) == [("big.csv", "done", LINES, None)]
        assert rows(cluster, name) == (LINES, LINES, 1, LINES, 0)
        return
    idle(cluster, name)
    if change == "split_append":
        expect_fail_split(cluster, name)
        return
    error = {
        "append": grew_error(name, offset_after(LINES + APPENDED)),
        "overwrite": f"{prefix(name)} changed in place: its bytes before offset "
                     f"{offset_after(LINES)} differ from the version loaded up to offset "
                     f"{offset_after(COMMITTED)}: {RESTORE}",
        "truncate": f"{prefix(name)} shrank from {offset_after(LINES)} to "
                    f"{offset_after(TRUNCATED)} bytes, below its committed offset "
                    f"{offset_after(COMMITTED)}: {RESTORE}",
    }[change]
    assert files(cluster, name) == [("big.csv", "failed", COMMITTED, error)]
    assert rows(cluster, name) == (COMMITTED, COMMITTED, 1, COMMITTED, 0)
    # Never a new version by itself, even once a rescan saw it.
    cluster.query("SELECT pg_sleep(1.5)")
    assert len(files(cluster, name)) == 1
    total = LINES + APPENDED if change == "append" else LINES
    if change != "append":  # the fix: the bytes put back in place, then retry_file
        with open(path, "r+b") as f:
            f.write(original)
    retried(cluster, name)
    assert files(cluster, name) == [("big.csv", "done", total, None)]
    assert rows(cluster, name) == (total, total, 1, total, 0)


def expect_fail_split(cluster, name):
    # The workers of the other chunks may have committed any whole batches: the error names
    # the file's committed offset, whatever it is. The first retry loads the chunks to the ends
    # they were planned with; the file is then seen grown, and the second loads the new lines.
    [(file_name, status, loaded, error)] = files(cluster, name)
    assert (file_name, status) == ("big.csv", "failed")
    assert re.fullmatch(
        rf'source "{name}", file "big.csv", line \d+: file "big.csv" grew from '
        rf"{offset_after(LINES)} to {offset_after(LINES + SPLIT_APPENDED)} bytes: "
        r"ingest.retry_file loads the rest from its committed offset \d+ exactly once, or "
        r"ingest.skip_file gives it up", error), error
    assert rows(cluster, name)[:2] == (loaded, loaded)
    retried(cluster, name)
    wait_until(lambda: files(cluster, name)[0][1] == "failed", 60, "the growth to be seen")
    idle(cluster, name)
    retried(cluster, name)
    total = LINES + SPLIT_APPENDED
    assert files(cluster, name) == [("big.csv", "done", total, None)]
    assert rows(cluster, name) == (total, total, 1, total, 0)


# What on_file_change = replace leaves: exactly the rows of the file as it is now, its new size
# recorded, no error, one row in ingest.files (the same inode: the same file).
REPLACED = {
    "touch": (LINES, 0),
    "utime": (LINES, 0),
    "append": (LINES + APPENDED, 0),
    "overwrite": (LINES, len(OVERWRITTEN)),
    "truncate": (TRUNCATED, 0),
    "split_append": (LINES + SPLIT_APPENDED, 0),
}


def expect_replace(cluster, name, change, path):
    idle(cluster, name)
    total, notes_b = REPLACED[change]
    assert files(cluster, name) == [("big.csv", "done", total, None)]
    assert rows(cluster, name) == (total, total, 1, total, notes_b)
    file_id = cluster.scalar("SELECT file_id FROM ingest.files WHERE source = %s", (name,))
    assert cluster.query(f"SELECT count(*) FROM {name} WHERE _file IS DISTINCT FROM %s",
                         (file_id,)) == [(0,)]
    assert cluster.query(
        "SELECT file_size, replay_requested, "
        "  (SELECT count(*) FROM ingest.file_chunks c WHERE c.file_id = f.file_id "
        "     AND c.status <> 'done'), "
        "  (SELECT count(*) FROM ingest.rejects r WHERE r.source = f.source) "
        "FROM ingest.files f WHERE source = %s", (name,)) == [
        (path.stat().st_size, False, 0, 0)]


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("mode", ["fail", "replace"])
def test_a_change_mid_load_then_kill_9(cluster, data_dir, big_file, mode, change):
    name = f"{mode}_{change}"
    key = 52600 + 10 * list(CHANGES).index(change) + (mode == "replace")
    original = start_and_change(cluster, data_dir, big_file, name, mode, change, key)
    if mode == "fail":
        expect_fail(cluster, name, change, data_dir / "big.csv", original)
    else:
        expect_replace(cluster, name, change, data_dir / "big.csv")
    cluster.query("SELECT ingest.stop(%s)", (name,))


def test_on_file_change_is_checked(cluster, data_dir):
    cluster.query("CREATE TABLE checked (id bigint, _file bigint)")
    refusals = [
        ('{"on_file_change": "tail"}',
         'option "on_file_change" must be "fail", "append" or "replace"'),
        ('{"on_file_change": "replace"}',
         'option "on_file_change" = "replace" needs option "file_column": the rows of a '
         "file's previous version are found by it"),
        ('{"on_file_change": "replace", "file_column": "_file", '
         '"transform": "INSERT INTO checked SELECT id, NULL FROM batch"}',
         'option "on_file_change" = "replace" cannot be used with option "transform": what a '
         "transform did with a file's rows cannot be undone"),
    ]
    for options, message in refusals:
        with pytest.raises(Exception) as raised:
            cluster.query("SELECT ingest.create_source('checked', %s, 'checked', options => %s)",
                          (str(data_dir), options))
        assert (raised.value.pgcode, raised.value.diag.message_primary) == ("22023", message)
    cluster.query("SELECT ingest.create_source('checked', %s, 'checked', options => %s)",
                  (str(data_dir), '{"on_file_change": "replace", "file_column": "_file"}'))
    with pytest.raises(Exception) as raised:
        cluster.query("SELECT ingest.alter_source('checked', options => %s)",
                      ('{"file_column": null}',))
    assert raised.value.diag.message_primary == refusals[1][1]
    cluster.query("SELECT ingest.alter_source('checked', options => %s)",
                  ('{"on_file_change": "append"}',))
    assert cluster.scalar("SELECT options ->> 'on_file_change' FROM ingest.sources "
                          "WHERE name = 'checked'") == "append"
    cluster.query("SELECT ingest.drop_source('checked')")
