"""One big file across workers (option split_bytes): a file larger than split_bytes is cut at
proven row boundaries, never inside a quoted field, into chunks that the source's workers load in
parallel, each exactly once, through kill -9 and an immediate shutdown; rejects keep their true
file line numbers."""
import json
import os
import random

from conftest import listen, notifications, wait_idle, wait_until

SPLIT_BYTES = 1 << 20
HEADER = "id,note\n"


def quoted_lines(length, seed):
    """A quoted field of exactly `length` bytes (quotes included) with a newline every 40 bytes:
    a naive search for a newline would cut the file inside it."""
    body = "".join("\n" if (i + seed) % 40 == 39 else "x" for i in range(length - 2))
    return '"' + body + '"'


def chunk_step(size, split_bytes=SPLIT_BYTES):
    """The planner's spacing of cuts: the file in ceil(size / split_bytes) chunks of equal size."""
    chunks = -(-size // split_bytes)
    return -(-size // chunks)


class SplitFile:
    """Writes a CSV file the way the planner cuts it, and knows where the cuts fall: the first row
    boundary at least chunk_step(size) after the previous cut (the first: after the file's start).
    Every row that straddles a candidate cut has a multi-line quoted field with a quoted newline
    on the very byte where the cut would fall, and so do the rows around it. Every chunk has bad
    rows (an id that is no bigint): its first row and one in its middle. Where the candidates fall
    depends on the size, and the size on the rows made multi-line there: so the size is chosen
    first, and the last row is padded to it."""

    def __init__(self, path, rows, big_field_at=None, big_field=0):
        self._lay_out(rows, SPLIT_BYTES, big_field_at, big_field)
        size = self.size + 4096
        parts = self._lay_out(rows, chunk_step(size), big_field_at, big_field, pad_to=size)
        assert self.size == size
        tmp = path.parent / f".{path.name}.tmp"
        tmp.write_text("".join(parts))
        os.rename(tmp, path)

    def _lay_out(self, rows, step, big_field_at, big_field, pad_to=None):
        self.good = 0
        self.bad_lines = []    # true line numbers of the bad rows
        self.cuts = []         # (offset, line) where each chunk after the first starts
        self.big_field = None  # (start offset, end offset, line) of the big field's row
        offset, line = len(HEADER), 2
        target = step
        near = 0  # rows around a cut still to be made multi-line
        chunk_row = 0
        parts = [HEADER]
        for i in range(rows):
            plain = f"{i},note {i}\n"
            if pad_to is not None and i == rows - 1:
                text = f"{i},\"" + "p" * (pad_to - offset - len(f"{i},\"\"\n")) + "\"\n"
            elif big_field_at == i:
                text = f"{i},{quoted_lines(big_field, i)}\n"
                self.big_field = (offset, offset + len(text), line)
            elif offset < target <= offset + len(plain) + 60:
                # The row across the candidate cut: its quoted field has a newline at the byte
                # before the target, so the cut goes after the row.
                prefix = f"{i},\""
                inside = max(target - 1 - offset - len(prefix), 0)
                text = prefix + "y" * inside + "\n" + "z" * 20 + "\"\n"
                near = 5
            elif chunk_row in (0, 2000):
                # A bad row, itself on two lines or more.
                text = f"bad{i},{quoted_lines(60, i)}\n"
            elif near > 0 or offset + 400 >= target:
                text = f"{i},{quoted_lines(60, i)}\n"
                near = max(near - 1, 0)
            else:
                text = plain
            if text.startswith("bad"):
                self.bad_lines.append(line)
            else:
                self.good += 1
            parts.append(text)
            offset += len(text)
            line += text.count("\n")
            chunk_row += 1
            if offset >= target:
                self.cuts.append((offset, line))
                target = offset + step
                chunk_row = 0
        self.size = offset
        self.last_line = line - 1
        if self.cuts and self.cuts[-1][0] >= self.size:
            self.cuts.pop()
        return parts


def set_files_retention(cluster, value):
    cluster.query(f"ALTER SYSTEM SET pg_ingest.files_retention = '{value}'")
    cluster.query("SELECT pg_reload_conf()")
    wait_until(lambda: cluster.scalar("SHOW pg_ingest.files_retention") == value, 10,
               f"files_retention = {value}")


def start_split_source(cluster, data_dir, name, workers=2, batch_size=5000, **options):
    cluster.query(f"CREATE TABLE {name} (id bigint PRIMARY KEY, note text)")
    cluster.query("SELECT ingest.create_source(%s, %s, %s, batch_size => %s, options => %s)",
                  (name, str(data_dir), name, batch_size,
                   json.dumps({"workers": workers, "split_bytes": SPLIT_BYTES, **options})))
    cluster.query("SELECT ingest.start(%s)", (name,))
    cluster.wait_for_workers(name, workers)


def chunks(cluster, name):
    return cluster.query(
        "SELECT c.chunk_no, c.start_offset, c.end_offset, c.start_line, c.status, "
        "  c.byte_offset = c.end_offset FROM ingest.file_chunks c "
        "JOIN ingest.files f USING (file_id) WHERE f.source = %s ORDER BY c.chunk_no", (name,))


def assert_loaded_once(cluster, name, split):
    assert cluster.query(f"SELECT count(*), count(DISTINCT id) FROM {name}") == \
        [(split.good, split.good)]
    assert cluster.query(
        "SELECT status, rows_loaded, rows_rejected, byte_offset, line_number FROM ingest.files "
        "WHERE source = %s", (name,)) == \
        [("done", split.good, len(split.bad_lines), split.size, split.last_line)]
    starts = [(0, 1)] + split.cuts
    ends = [cut[0] for cut in split.cuts] + [split.size]
    assert chunks(cluster, name) == [(n, start, end, line, "done", True)
                                     for n, ((start, line), end) in enumerate(zip(starts, ends))]
    assert cluster.query(
        "SELECT sum(c.rows_loaded)::bigint, sum(c.rows_rejected)::bigint FROM ingest.file_chunks c "
        "JOIN ingest.files f USING (file_id) WHERE f.source = %s", (name,)) == \
        [(split.good, len(split.bad_lines))]
    # Each bad row rejected once, on its true line of the file.
    assert [line for (line,) in cluster.query(
        "SELECT line_number FROM ingest.rejects WHERE source = %s ORDER BY line_number",
        (name,))] == split.bad_lines


def test_a_million_rows_load_once_in_chunks_through_5_kill_9_and_an_immediate_stop(
        cluster, data_dir):
    name = "split_kill"
    start_split_source(cluster, data_dir, name)
    # 30 ms per batch statement: the load takes long enough for every kill to land mid-load.
    cluster.query(f"CREATE FUNCTION {name}_slow() RETURNS trigger LANGUAGE plpgsql AS "
                  "$$ BEGIN PERFORM pg_sleep(0.03); RETURN NULL; END $$")
    cluster.query(f"CREATE TRIGGER slow BEFORE INSERT ON {name} "
                  f"FOR EACH STATEMENT EXECUTE FUNCTION {name}_slow()")
    split = SplitFile(data_dir / "big.csv", 1_000_000)
    assert len(split.cuts) >= 15
    total = split.good + len(split.bad_lines)
    rng = random.Random(20261202)

    def loaded():
        return cluster.scalar("SELECT coalesce(sum(rows_loaded + rows_rejected), 0) "
                              "FROM ingest.files WHERE source = %s", (name,))
    for kill in range(1, 6):
        wait_until(lambda: loaded() >= total * kill // 7, 300, f"progress before kill {kill}")
        cluster.kill_workers(name, numbers=[rng.choice([1, 2])])
    assert 0 < loaded() < total, "the kills landed after the load"
    cluster.stop("immediate")
    cluster.start()
    wait_idle(cluster, name, timeout="600s")
    assert_loaded_once(cluster, name, split)
    cluster.query("SELECT ingest.stop(%s)", (name,))


def test_a_kill_9_after_the_plan_commits_and_before_any_chunk_does_loads_the_plan_once(
        cluster, data_dir):
    name = "split_planned"
    start_split_source(cluster, data_dir, name)
    # Every insert waits for a lock the test holds: the plan commits, no batch can.
    cluster.query(f"CREATE FUNCTION {name}_wait() RETURNS trigger LANGUAGE plpgsql AS "
                  "$$ BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN NULL; END $$")
    cluster.query(f"CREATE TRIGGER wait BEFORE INSERT ON {name} "
                  f"FOR EACH STATEMENT EXECUTE FUNCTION {name}_wait()")
    blocker = cluster.connect()
    blocker.cursor().execute("SELECT pg_advisory_lock(4242)")
    log_offset = cluster.log_size()
    split = SplitFile(data_dir / "planned.csv", 200_000)
    assert len(split.cuts) >= 2
    wait_until(lambda: 'file "planned.csv" is loaded in' in cluster.log(since=log_offset), 60,
               "the plan")
    planned = cluster.query("SELECT chunk_id, chunk_no, start_offset FROM ingest.file_chunks c "
                            "JOIN ingest.files f USING (file_id) WHERE f.source = %s "
                            "ORDER BY chunk_no", (name,))
    assert len(planned) == len(split.cuts) + 1
    # Both workers wait on the lock with a chunk each: nothing of the file is committed.
    wait_until(lambda: cluster.scalar(
        "SELECT count(*) FROM pg_locks l JOIN ingest.workers w USING (pid) "
        "WHERE w.source = %s AND NOT l.granted", (name,)) == 2, 60, "both workers blocked")
    assert cluster.query("SELECT status, rows_loaded, rows_rejected FROM ingest.files "
                         "WHERE source = %s", (name,)) == [("loading", 0, 0)]
    cluster.kill_workers(name)
    blocker.close()
    wait_idle(cluster, name)
    assert_loaded_once(cluster, name, split)
    # The plan stood: the same chunks, never planned again.
    assert cluster.query("SELECT chunk_id, chunk_no, start_offset FROM ingest.file_chunks c "
                         "JOIN ingest.files f USING (file_id) WHERE f.source = %s "
                         "ORDER BY chunk_no", (name,)) == planned
    cluster.query("SELECT ingest.stop(%s)", (name,))


def test_chunks_keep_true_line_numbers_and_the_file_is_done_once_with_its_last_chunk(
        cluster, data_dir):
    name = "split_lines"
    start_split_source(cluster, data_dir, name, on_success="delete")
    conn = listen(cluster)
    log_offset = cluster.log_size()
    split = SplitFile(data_dir / "lines.csv", 300_000)
    assert len(split.cuts) >= 4
    wait_idle(cluster, name)
    assert_loaded_once(cluster, name, split)
    # Done once, announced once, and only then deleted.
    assert [n["status"] for n in notifications(conn, 1)] == ["done"]
    conn.close()
    assert not (data_dir / "lines.csv").exists()
    log = cluster.log(since=log_offset)
    assert f'file "lines.csv" is loaded in {len(split.cuts) + 1} chunks' in log
    assert log.count('loaded file "lines.csv" with its last chunk') == 1
    # The chunks were shared: both workers loaded some.
    pids = {line.split("[")[1].split("]")[0] for line in log.splitlines()
            if 'loaded chunk' in line and 'file "lines.csv"' in line}
    assert len(pids) == 2, pids
    assert cluster.query("SELECT files_done, files_loading, rows_loaded, rows_rejected "
                         "FROM ingest.status WHERE source = %s", (name,)) == \
        [(1, 0, split.good, len(split.bad_lines))]

    # Dedupe compares the whole file's checksum: the same content again is a duplicate.
    again = SplitFile(data_dir / "again.csv", 300_000)
    wait_idle(cluster, name)
    assert again.size == split.size
    assert cluster.query("SELECT f.status, o.file_name FROM ingest.files f "
                         "JOIN ingest.files o ON o.file_id = f.duplicate_of "
                         "WHERE f.source = %s AND f.file_name = 'again.csv'", (name,)) == \
        [("duplicate", "lines.csv")]

    # files_retention purges a split file's chunks with its row.
    file_ids = [file_id for (file_id,) in cluster.query(
        "SELECT file_id FROM ingest.files WHERE source = %s", (name,))]
    assert cluster.scalar("SELECT count(*) FROM ingest.file_chunks WHERE file_id = ANY (%s)",
                          (file_ids,)) == len(split.cuts) + 1
    (data_dir / "again.csv").unlink()
    set_files_retention(cluster, "1s")
    try:
        wait_until(lambda: cluster.scalar("SELECT count(*) FROM ingest.files WHERE source = %s",
                                          (name,)) == 0, 30, "the files' rows purged")
    finally:
        set_files_retention(cluster, "-1")
    assert cluster.scalar("SELECT count(*) FROM ingest.file_chunks WHERE file_id = ANY (%s)",
                          (file_ids,)) == 0
    cluster.query("SELECT ingest.stop(%s)", (name,))


def test_a_20_mb_multi_line_field_is_never_cut_inside(cluster, data_dir):
    name = "split_big_field"
    big = 20 << 20
    start_split_source(cluster, data_dir, name, max_field_bytes=32 << 20)
    split = SplitFile(data_dir / "field.csv", 200_000, big_field_at=50_000, big_field=big)
    wait_idle(cluster, name)
    start, end, _ = split.big_field
    assert start < 2 * SPLIT_BYTES and end > 20 * SPLIT_BYTES
    assert_loaded_once(cluster, name, split)
    # No chunk starts inside the field's row.
    assert cluster.query(
        "SELECT count(*) FROM ingest.file_chunks c JOIN ingest.files f USING (file_id) "
        "WHERE f.source = %s AND c.start_offset > %s AND c.start_offset < %s",
        (name, start, end)) == [(0,)]
    # Its row, over 16 MB, loads whole, as max_field_bytes (32 MB) allows: one field, unchanged.
    assert cluster.query(f"SELECT length(note), length(note) - length(replace(note, E'\\n', '')) "
                         f"FROM {name} WHERE id = 50000") == \
        [(big - 2, quoted_lines(big, 50_000).count("\n"))]
    cluster.query("SELECT ingest.stop(%s)", (name,))


def test_split_bytes_is_checked(cluster, data_dir):
    cluster.query("CREATE TABLE split_checked (id bigint)")
    for bad in (-1, 1.5, "1MB"):
        error = None
        try:
            cluster.query("SELECT ingest.create_source('split_checked', %s, 'split_checked', "
                          "options => %s)", (str(data_dir), json.dumps({"split_bytes": bad})))
        except Exception as e:  # noqa: BLE001 - the message is what is checked
            error = str(e).splitlines()[0]
        assert error == 'option "split_bytes" must be a non-negative integer', bad
