"""Tail mode (on_file_change = append, issue 25): a file that grows with its committed bytes
intact has its new lines loaded from its committed offset, exactly once, during its load or after
it is done; a last line without its terminator waits for one; a rewrite fails the file as with
`fail`; rotation by rename or by copy-and-truncate; exactly once proven by kill -9 and an
immediate stop."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import new_source, wait_idle, wait_until
from test_file_changes import RESTORE, make_committed_batches_durable
from test_file_failures import Gate

HEADER = b"id,note\n"
APPEND = '{"on_file_change": "append"}'


def line(i):
    return b"%d,n%d\n" % (i, i)


def content(first, last):
    return b"".join(line(i) for i in range(first, last + 1))


def count_rows(cluster, name):
    return cluster.scalar(f"SELECT count(*) FROM {name}")


def assert_rows(cluster, name, count):
    """Exactly the ids 1..count, each once, each with its own note."""
    assert cluster.query(
        f"SELECT count(*), count(DISTINCT id), min(id), max(id), "
        f"  count(*) FILTER (WHERE note = 'n' || id) FROM {name}") == [(count, count, 1, count,
                                                                        count)]


def wait_rows(cluster, name, count, what="the appended lines"):
    wait_until(lambda: count_rows(cluster, name) >= count, 90, what)
    wait_idle(cluster, name)
    assert_rows(cluster, name, count)


def files(cluster, name):
    return cluster.query("SELECT file_name, status, rows_loaded, error FROM ingest.files "
                         "WHERE source = %s ORDER BY file_id", (name,))


def waiting(count):
    return f"{count} bytes after the last line terminator wait for one"


def append(path, data):
    with open(path, "ab") as f:
        f.write(data)


def start_tail(cluster, data_dir, name, first_lines, **arguments):
    new_source(cluster, data_dir, name, options=APPEND, **arguments)
    tmp = data_dir / ".app.tmp"
    tmp.write_bytes(HEADER + content(1, first_lines))
    tmp.rename(data_dir / "app.csv")
    cluster.query("SELECT ingest.start(%s)", (name,))
    wait_rows(cluster, name, first_lines, "the first lines")
    return data_dir / "app.csv"


def test_options_refuse_unknown_modes_and_replace_without_file_column(cluster, data_dir):
    cluster.query("CREATE TABLE modes (id bigint)")
    with pytest.raises(Exception, match='option "on_file_change" must be "fail", "append" or '
                                        '"replace"'):
        cluster.query("SELECT ingest.create_source('modes', %s, 'modes', "
                      "options => '{\"on_file_change\": \"tail\"}')", (str(data_dir),))
    with pytest.raises(Exception, match='option "on_file_change" = "replace" needs option '
                                        '"file_column": the rows of a file\'s previous version '
                                        'are found by it'):
        cluster.query("SELECT ingest.create_source('modes', %s, 'modes', "
                      "options => '{\"on_file_change\": \"replace\"}')", (str(data_dir),))
    cluster.query("SELECT ingest.create_source('modes', %s, 'modes', options => %s)",
                  (str(data_dir), APPEND))
    assert cluster.scalar("SELECT options ->> 'on_file_change' FROM ingest.sources "
                          "WHERE name = 'modes'") == "append"


def test_ten_appends_with_half_lines_kills_and_an_immediate_stop_load_each_line_once(
        cluster, data_dir):
    name = "tailed"
    path = start_tail(cluster, data_dir, name, 1000, batch_size=100)
    assert files(cluster, name) == [("app.csv", "done", 1000, None)]
    loaded, rest = 1000, b""  # rest: the end of a line whose start is written already
    for step in range(1, 11):
        first = loaded + 1 + (1 if rest else 0)
        complete = first + 299
        data = rest + content(first, complete)
        # Even steps end with half of the next line: the following step completes it.
        started = line(complete + 1)[:4] if step % 2 == 0 and step < 10 else b""
        data += started
        rest = line(complete + 1)[len(started):] if started else b""
        if step == 7:
            # A writer that keeps the file open: no IN_CLOSE_WRITE, IN_MODIFY alone.
            writer = open(path, "ab")
            writer.write(data[:1000])
            writer.flush()
            writer.write(data[1000:])
            writer.flush()
        else:
            append(path, data[:1000])  # a write boundary inside a line too
            append(path, data[1000:])
        if step in (3, 6, 8):
            make_committed_batches_durable(cluster)
            cluster.kill_workers(name)
        if step == 5:
            make_committed_batches_durable(cluster)
            cluster.stop("immediate")
            cluster.start()
        wait_rows(cluster, name, complete)
        if step == 7:
            writer.close()
        loaded = complete
        [(status, offset, size, error)] = cluster.query(
            "SELECT status, byte_offset, file_size, error FROM ingest.files WHERE source = %s",
            (name,))
        if started:
            # The half line waits, visibly, and is never loaded as a row.
            assert (status, size - offset, error) == ("done", len(started), waiting(len(started)))
        else:
            assert (status, size - offset, error) == ("done", 0, None)
    assert files(cluster, name) == [("app.csv", "done", loaded, None)]
    assert_rows(cluster, name, loaded)
    cluster.query("SELECT ingest.stop(%s)", (name,))


def test_rename_rotation_reads_the_renamed_file_to_its_end_once(cluster, data_dir):
    # The rotated name does not match the pattern: the renamed inode is found by its inode.
    name = "renamed"
    path = start_tail(cluster, data_dir, name, 1000)
    # Rotated while the source is stopped, then live.
    cluster.query("SELECT ingest.stop(%s)", (name,))
    append(path, content(1001, 1200))
    os.rename(path, data_dir / "app.csv.1")
    (data_dir / ".new.tmp").write_bytes(HEADER + content(1201, 1500))
    os.rename(data_dir / ".new.tmp", path)
    cluster.query("SELECT ingest.start(%s)", (name,))
    wait_rows(cluster, name, 1500)
    append(path, content(1501, 1600))
    os.rename(path, data_dir / "app.csv.2")
    (data_dir / ".new.tmp").write_bytes(HEADER + content(1601, 1700))
    os.rename(data_dir / ".new.tmp", path)
    wait_rows(cluster, name, 1700)
    assert files(cluster, name) == [("app.csv", "done", 1200, None),
                                    ("app.csv", "done", 400, None),
                                    ("app.csv", "done", 100, None)]
    assert_rows(cluster, name, 1700)
    cluster.query("SELECT ingest.stop(%s)", (name,))


def test_rename_rotation_to_a_matching_name_is_not_a_new_file(cluster, data_dir):
    name = "renamed_matching"
    new_source(cluster, data_dir, name, options=APPEND, pattern="app.log*", batch_size=100)
    (data_dir / ".app.tmp").write_bytes(HEADER + content(1, 1000))
    os.rename(data_dir / ".app.tmp", data_dir / "app.log")
    cluster.query("SELECT ingest.start(%s)", (name,))
    wait_rows(cluster, name, 1000)
    append(data_dir / "app.log", content(1001, 1100))
    os.rename(data_dir / "app.log", data_dir / "app.log.1")
    (data_dir / ".app.tmp").write_bytes(HEADER + content(1101, 1200))
    os.rename(data_dir / ".app.tmp", data_dir / "app.log")
    wait_rows(cluster, name, 1200)
    # A rescan later still finds app.log.1 to be the first app.log, not a new file.
    cluster.query("SELECT pg_sleep(1.5)")
    wait_idle(cluster, name)
    assert files(cluster, name) == [("app.log", "done", 1100, None),
                                    ("app.log", "done", 100, None)]
    assert_rows(cluster, name, 1200)
    cluster.query("SELECT ingest.stop(%s)", (name,))


TRUNCATED = (r"truncated to (\d+) bytes, below its committed offset (\d+): this version ends "
             r"with the rows committed, and the file from byte 0 is a new version")


def test_copy_truncate_rotation_ends_the_version_and_loads_the_file_again_from_byte_0(
        cluster, data_dir):
    name = "copy_truncated"
    path = start_tail(cluster, data_dir, name, 1000)
    offset = len(HEADER + content(1, 1000))
    shutil.copy(path, data_dir / "app.csv.1")  # the copy does not match the pattern
    os.truncate(path, 0)  # by path: IN_MODIFY, no close
    append(path, HEADER + content(1001, 1100))
    wait_rows(cluster, name, 1100)
    versions = files(cluster, name)
    assert versions[0][:3] == ("app.csv", "done", 1000)
    match = re.fullmatch(TRUNCATED, versions[0][3])
    assert match and int(match[1]) < offset and int(match[2]) == offset, versions
    # Seen at 0 bytes first, the new version may have been done empty before it grew: a new
    # version again, since nothing of it was committed.
    assert [v[1] for v in versions] == ["done"] * len(versions) and len(versions) in (2, 3)
    assert versions[-1] == ("app.csv", "done", 100, None)
    assert sum(v[2] for v in versions) == 1100
    assert_rows(cluster, name, 1100)
    cluster.query("SELECT ingest.stop(%s)", (name,))


# Mid-load changes of a 2,000,000-row file in tail mode, each followed by a kill -9 of the
# workers. The change lands at a gate: the target's trigger holds the worker inside batch 3, so
# 2 batches are committed (made durable before the kill) and the file is loading.
BIG_LINES, BIG_BATCH = 2_000_000, 10_000
COMMITTED = 2 * BIG_BATCH


def big_line(i):
    return b"%d,n\n" % i


def big_content(first, last):
    return b"".join(big_line(i) for i in range(first, last + 1))


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("tail_big") / "big.csv"
    path.write_bytes(HEADER + big_content(1, BIG_LINES))
    return path


def big_offset(rows):
    return len(HEADER) + len(big_content(1, rows))


def start_big(cluster, data_dir, big_file, name, key, options=APPEND):
    new_source(cluster, data_dir, name, batch_size=BIG_BATCH, options=options)
    shutil.copy(big_file, data_dir / ".big.tmp")
    os.rename(data_dir / ".big.tmp", data_dir / "big.csv")
    gate = Gate(cluster, name, at_id=COMMITTED + 1, key=key)
    cluster.query("SELECT ingest.start(%s)", (name,))
    gate.wait_until_reached()
    assert cluster.query("SELECT status FROM ingest.files WHERE source = %s", (name,)) == \
        [("loading",)]
    return data_dir / "big.csv", gate


def kill_after_the_change(cluster, name, gate):
    """The batches before the gate made durable, the workers killed (which ends the gate's
    session too), and the gate's trigger dropped so that the rest loads at full speed."""
    make_committed_batches_durable(cluster)
    cluster.kill_workers(name)
    gate.conn.close()  # its session ended with the crash restart
    cluster.query(f"DROP TRIGGER gate ON {name}")


def assert_big_rows(cluster, name, count):
    """Exactly the ids 1..count, each once."""
    assert cluster.query(f"SELECT count(*), count(DISTINCT id), min(id), max(id) FROM {name}") == \
        [(count, count, 1, count)]


def assert_every_line_loaded_once(cluster, name, count):
    wait_until(lambda: count_rows(cluster, name) == count, 300, "every row")
    wait_idle(cluster, name)
    assert files(cluster, name) == [("big.csv", "done", count, None)]
    assert_big_rows(cluster, name, count)
    cluster.query("SELECT ingest.stop(%s)", (name,))


def test_mid_load_append_loads_on_to_the_new_end_once(cluster, data_dir, big_file):
    name = "big_appended"
    path, gate = start_big(cluster, data_dir, big_file, name, key=52601)
    append(path, big_content(BIG_LINES + 1, BIG_LINES + 1000))
    kill_after_the_change(cluster, name, gate)
    assert_every_line_loaded_once(cluster, name, BIG_LINES + 1000)


def test_mid_load_same_size_overwrite_fails_as_with_fail(cluster, data_dir, big_file):
    name = "big_overwritten"
    path, gate = start_big(cluster, data_dir, big_file, name, key=52602)
    with open(path, "r+b") as f:  # 2 KB rewritten in place, in the committed part
        f.seek(big_offset(100))
        f.write(b"9" * 2048)
    kill_after_the_change(cluster, name, gate)
    wait_idle(cluster, name, timeout="300s")
    assert files(cluster, name) == [
        ("big.csv", "failed", COMMITTED,
         f'source "{name}", file "big.csv", line {COMMITTED + 2}: file "big.csv" changed in '
         f"place: its bytes before offset {big_offset(BIG_LINES)} differ from the version loaded "
         f"up to offset {big_offset(COMMITTED)}: {RESTORE}")]
    assert_big_rows(cluster, name, COMMITTED)
    cluster.query("SELECT ingest.stop(%s)", (name,))


def test_mid_load_truncation_below_the_offset_ends_the_version_and_loads_the_new_one(
        cluster, data_dir, big_file):
    name = "big_truncated"
    path, gate = start_big(cluster, data_dir, big_file, name, key=52603)
    with open(path, "r+b") as f:  # copy-and-truncate's truncate, then the writer goes on
        f.truncate(0)
    append(path, HEADER + big_content(BIG_LINES + 1, BIG_LINES + 500))
    kill_after_the_change(cluster, name, gate)
    wait_until(lambda: count_rows(cluster, name) == COMMITTED + 500, 300, "the new version")
    wait_idle(cluster, name)
    versions = files(cluster, name)
    assert versions[0][:3] == ("big.csv", "done", COMMITTED)
    assert versions[0][3] == (
        f"truncated to {len(HEADER + big_content(BIG_LINES + 1, BIG_LINES + 500))} bytes, below "
        f"its committed offset {big_offset(COMMITTED)}: this version ends with the rows "
        f"committed, and the file from byte 0 is a new version")
    assert versions[1:] == [("big.csv", "done", 500, None)]
    assert cluster.query(f"SELECT count(*), count(DISTINCT id), "
                         f"  count(*) FILTER (WHERE id <= {COMMITTED}), "
                         f"  count(*) FILTER (WHERE id > {BIG_LINES}) FROM {name}") == \
        [(COMMITTED + 500, COMMITTED + 500, COMMITTED, 500)]
    cluster.query("SELECT ingest.stop(%s)", (name,))


def test_mid_load_touch_is_no_change(cluster, data_dir, big_file):
    name = "big_touched"
    path, gate = start_big(cluster, data_dir, big_file, name, key=52604)
    subprocess.run(["touch", str(path)], check=True)
    kill_after_the_change(cluster, name, gate)
    assert_every_line_loaded_once(cluster, name, BIG_LINES)


def test_mid_load_append_to_a_split_file_with_3_workers_loads_every_line_once(
        cluster, data_dir, big_file):
    name = "big_split"
    path, gate = start_big(cluster, data_dir, big_file, name, key=52605,
                           options='{"on_file_change": "append", "workers": 3, '
                                   '"split_bytes": 4000000}')
    append(path, big_content(BIG_LINES + 1, BIG_LINES + 1000))
    kill_after_the_change(cluster, name, gate)
    assert_every_line_loaded_once(cluster, name, BIG_LINES + 1000)


def test_fail_mode_a_done_file_truncated_by_path_is_judged_without_a_restart(cluster, data_dir):
    # truncate(2) by path: IN_MODIFY and no close. The known file is judged at once.
    name = "truncated_by_path"
    new_source(cluster, data_dir, name, batch_size=100)
    (data_dir / ".app.tmp").write_bytes(HEADER + content(1, 1000))
    os.rename(data_dir / ".app.tmp", data_dir / "app.csv")
    cluster.query("SELECT ingest.start(%s)", (name,))
    wait_rows(cluster, name, 1000, "the file")
    size = len(HEADER + content(1, 1000))
    os.truncate(data_dir / "app.csv", 100)
    wait_until(lambda: files(cluster, name)[0][1] == "failed", 60, "the truncation to be judged")
    wait_idle(cluster, name)
    assert files(cluster, name) == [
        ("app.csv", "failed", 1000,
         f'source "{name}", file "app.csv": file "app.csv" shrank from {size} to 100 bytes, '
         f"below its committed offset {size}: {RESTORE}")]
    assert_rows(cluster, name, 1000)
    cluster.query("SELECT ingest.stop(%s)", (name,))
