"""Line ends as COPY judges them: the first line break outside quotes ("\\n", "\\r\\n" or a lone
"\\r") is the file's, in every reader (CsvReader, the span scanner, the split planner, the direct
COPY path), and any other line break outside quotes is refused a line at a time with COPY's words.
Each file is compared with COPY FROM of the same file, row for row. Also: an unterminated quote
longer than max_field_bytes is rejected as the unterminated quote, with the lines it swallowed."""
import json

import psycopg2
import pytest

from conftest import new_source, wait_idle, wait_until

LINE_ENDS = {"newline": "\n", "crlf": "\r\n", "carriage_return": "\r"}

# Fields COPY reads in every line end: quoted line breaks of every kind, delimiters, quotes,
# NULL (an empty unquoted field) and the empty string.
NOTES = ['plain', '"quoted, comma"', '"line\nbreak"', '"carriage\rreturn"', '"both\r\nkinds"',
         '', '""', '"say ""hi"""', 'caf\u00e9']


def write_file(path, text):
    tmp = path.parent / f".{path.name}.tmp"
    tmp.write_bytes(text.encode())
    tmp.rename(path)


def copied(cluster, table, path):
    """The rows COPY FROM (FORMAT csv, HEADER true) loads from the file, into a copy of table."""
    cluster.query(f"CREATE TABLE {table}_copy (LIKE {table})")
    cluster.query(f"COPY {table}_copy FROM %s (FORMAT csv, HEADER true)", (str(path),))
    return cluster.query(f"SELECT * FROM {table}_copy ORDER BY id")


def copy_error(cluster, table, path):
    """COPY's error (message and hint) for the file."""
    cluster.query(f"CREATE TABLE IF NOT EXISTS {table}_copy (LIKE {table})")
    with pytest.raises(psycopg2.Error) as error:
        cluster.query(f"COPY {table}_copy FROM %s (FORMAT csv, HEADER true)", (str(path),))
    return error.value.diag.message_primary, error.value.diag.message_hint


def file_row(cluster, source):
    return cluster.query("SELECT status, rows_loaded, rows_rejected, line_number, error "
                         "FROM ingest.files WHERE source = %s", (source,))


def rejects(cluster, source):
    return cluster.query("SELECT line_number, last_line_number, error FROM ingest.rejects "
                         "WHERE source = %s ORDER BY line_number", (source,))


def lines_of(text, line_end):
    """The physical lines COPY counts: by the file's line end byte, also inside quotes."""
    return text.count(line_end[-1]) + (0 if text.endswith(line_end) else 1)


@pytest.mark.parametrize("final_line_end", [True, False], ids=["ended", "unended"])
@pytest.mark.parametrize("line_end", list(LINE_ENDS))
def test_each_line_end_loads_row_for_row_as_copy_loads_it(cluster, data_dir, line_end,
                                                         final_line_end):
    name = f"ends_{line_end}_{'ended' if final_line_end else 'unended'}"
    end = LINE_ENDS[line_end]
    rows = [f"{i},{NOTES[i % len(NOTES)]}" for i in range(40)]
    text = end.join(["id,note"] + rows) + (end if final_line_end else "")
    path = data_dir / f"{name}.csv"
    write_file(path, text)
    new_source(cluster, data_dir, name, start=True, batch_size=7)
    wait_idle(cluster, name)
    loaded = cluster.query(f"SELECT * FROM {name} ORDER BY id")
    assert len(loaded) == 40
    assert loaded == copied(cluster, name, path)
    assert file_row(cluster, name) == [("done", 40, 0, lines_of(text, end), None)]
    assert rejects(cluster, name) == []
    # Every span of 7 rows went to COPY, read by COPY from the file itself (this server has no
    # other hook): the scanner vouched for each, none was left to the row path.
    assert cluster.query("SELECT batches_direct_copy, batches_spi_copy FROM ingest.metrics "
                         "WHERE source = %s", (name,)) == [(6, 0)]


CR_ERROR = ("unquoted carriage return found in data",
            "Use quoted CSV field to represent carriage return.")
NL_ERROR = ("unquoted newline found in data", "Use quoted CSV field to represent newline.")

# (line end, lines with another line break outside quotes, the refused line, COPY's error and
# hint). In a file of lone "\r"s, the "\r" of a "\r\n" ends its line (row 5 loads) and the
# next line starts with the "\n": that line is refused.
INCONSISTENT = {
    "newline then crlf": ("\n", "5,crlf\r\n", 6, CR_ERROR),
    "newline then carriage return": ("\n", "5,lone\r6,cr\n", 6, CR_ERROR),
    "crlf then newline": ("\r\n", "5,bare\n", 6, NL_ERROR),
    "crlf then carriage return": ("\r\n", "5,lone\r6,cr\r\n", 6, CR_ERROR),
    "carriage return then newline": ("\r", "5,bare\n6,nl\r", 6, NL_ERROR),
    "carriage return then crlf": ("\r", "5,crlf\r\n6,next\r", 7, NL_ERROR),
}


@pytest.mark.parametrize("case", list(INCONSISTENT))
def test_another_line_break_later_is_refused_a_line_at_a_time_in_copys_words(cluster, data_dir,
                                                                            case):
    """COPY refuses the whole file; pg_ingest refuses the line (a line as the file's line end
    ends it) and loads the others."""
    end, bad, refused_line, (message, hint) = INCONSISTENT[case]
    name = "mixed_" + case.replace(" ", "_")
    good = [f"{i},ok {i}" for i in range(1, 5)] + [f"{i},ok {i}" for i in range(7, 10)]
    text = end.join(["id,note"] + good[:4]) + end + bad + end.join(good[4:]) + end
    path = data_dir / f"{name}.csv"
    write_file(path, text)
    new_source(cluster, data_dir, name, start=True, batch_size=3)
    wait_idle(cluster, name)
    assert copy_error(cluster, name, path) == (message, hint)
    loaded = cluster.query(f"SELECT id FROM {name} ORDER BY id")
    refused = rejects(cluster, name)
    assert [error for _, _, error in refused] == [message]
    first, last, _ = refused[0]
    assert (first, last) == (refused_line, refused_line)
    # Every line of the file is the header, a loaded row or in a reject's range.
    data_lines = lines_of(text, end) - 1
    assert len(loaded) + sum(b - a + 1 for a, b, _ in refused) == data_lines
    status, rows_loaded, rows_rejected, line_number, _ = file_row(cluster, name)[0]
    assert (status, rows_loaded, rows_rejected, line_number) == \
        ("done", len(loaded), 1, data_lines + 1)
    kept = {row for (row,) in loaded}
    assert kept >= {1, 2, 3, 4, 7, 8, 9}


def test_a_lone_carriage_return_file_split_across_two_workers_loads_as_copy_loads_it(
        cluster, data_dir):
    """The planner's cuts fall at row boundaries of a "\\r" file, on their true lines (quoted
    "\\r"s count as lines, quoted "\\n"s do not), and the chunks load what COPY loads."""
    name = "split_cr"
    rows = [f"{i},{NOTES[i % len(NOTES)]} {'x' * (i % 50)}" if i % len(NOTES) in (0, 8)
            else f"{i},{NOTES[i % len(NOTES)]}" for i in range(60000)]
    text = "\r".join(["id,note"] + rows) + "\r"
    path = data_dir / f"{name}.csv"
    write_file(path, text)
    new_source(cluster, data_dir, name, batch_size=5000,
               options=json.dumps({"workers": 2, "split_bytes": 1 << 18}))
    cluster.query("SELECT ingest.start(%s)", (name,))
    cluster.wait_for_workers(name, 2)
    wait_idle(cluster, name)
    data = text.encode()
    chunks = cluster.query(
        "SELECT c.start_offset, c.start_line, c.status FROM ingest.file_chunks c "
        "JOIN ingest.files f USING (file_id) WHERE f.source = %s ORDER BY c.chunk_no", (name,))
    assert len(chunks) >= 3
    for start, line, status in chunks[1:]:
        assert data[start - 1:start] == b"\r" and status == "done"
        # A cut is never inside a quoted field: an even number of quotes before it.
        assert data[:start].count(b'"') % 2 == 0
        assert line == data[:start].count(b"\r") + 1
    loaded = cluster.query(f"SELECT * FROM {name} ORDER BY id")
    assert len(loaded) == 60000
    assert loaded == copied(cluster, name, path)
    assert file_row(cluster, name) == [("done", 60000, 0, lines_of(text, "\r"), None)]


def test_a_big_lone_carriage_return_file_loads_once_through_kill_9_and_an_immediate_stop(
        cluster, data_dir):
    """The "\\r" file in chunks across two workers, killed three times mid-load and stopped
    immediately once: every row exactly once, on the right lines."""
    name = "cr_kill"
    total = 400_000
    text = "id,note\r" + "".join(f"{i},\"row\r{i}\"\r" if i % 1000 == 7 else f"{i},row {i}\r"
                                 for i in range(total))
    write_file(data_dir / f"{name}.csv", text)
    # 30 ms per batch: the load takes long enough for every kill to land mid-load.
    cluster.query(f"CREATE TABLE {name} (id bigint PRIMARY KEY, note text)")
    cluster.query(f"CREATE FUNCTION {name}_slow() RETURNS trigger LANGUAGE plpgsql AS "
                  "$$BEGIN PERFORM pg_sleep(0.03); RETURN NULL; END$$")
    cluster.query(f"CREATE TRIGGER slow AFTER INSERT ON {name} FOR EACH STATEMENT "
                  f"EXECUTE FUNCTION {name}_slow()")
    cluster.query("SELECT ingest.create_source(%s, %s, %s, batch_size => 1000, options => %s)",
                  (name, str(data_dir), name, json.dumps({"workers": 2, "split_bytes": 1 << 20})))
    cluster.query("SELECT ingest.start(%s)", (name,))

    def loaded():
        return cluster.scalar("SELECT coalesce(sum(rows_loaded), 0) FROM ingest.files "
                              "WHERE source = %s", (name,))
    for kill in range(1, 4):
        wait_until(lambda: loaded() >= total * kill // 5, 300, f"progress before kill {kill}")
        cluster.kill_workers(name)
    assert 0 < loaded() < total, "the kills landed after the load"
    cluster.stop("immediate")
    cluster.start()
    cluster.wait_for_workers(name, 2, timeout=60)
    wait_idle(cluster, name, "300s")
    assert cluster.query(f"SELECT count(*), count(DISTINCT id), min(id), max(id) FROM {name}") == \
        [(total, total, 0, total - 1)]
    assert cluster.scalar(f"SELECT count(*) FROM {name} WHERE note = 'row' || chr(13) || id") == \
        total // 1000
    assert file_row(cluster, name) == [("done", total, 0, lines_of(text, "\r"), None)]


def test_an_unterminated_quote_past_max_field_bytes_is_refused_with_every_line_it_swallowed(
        cluster, data_dir):
    """The quote on line 7 never closes: the 100 lines after it are in its reject, which says
    where the quote opened, and the lines add up. COPY refuses the whole file."""
    name = "unterminated"
    lines = ["id,note"] + [f"{i},ok" for i in range(1, 6)] + ['6,"never closed'] + \
        [f"{i},{'x' * 12000}" for i in range(7, 107)]
    text = "\n".join(lines) + "\n"
    assert len(text) > 1 << 20  # past the default max_field_bytes
    path = data_dir / f"{name}.csv"
    write_file(path, text)
    new_source(cluster, data_dir, name, start=True)
    wait_idle(cluster, name)
    assert copy_error(cluster, name, path) == ("unterminated CSV quoted field", None)
    assert cluster.query(f"SELECT count(*) FROM {name}_copy") == [(0,)]
    assert cluster.query(f"SELECT id FROM {name} ORDER BY id") == [(i,) for i in range(1, 6)]
    swallowed = len(text) - text.index('6,"never closed')
    assert rejects(cluster, name) == [
        (7, 107, "unterminated quoted field: its quote opened on line 7 "
                 f"(raw_line cut to its first 1048576 of {swallowed} bytes)")]
    assert file_row(cluster, name) == [("done", 5, 1, 107, None)]
    # The invariant in lines: the loaded rows and the rejects' line ranges cover the data lines.
    assert cluster.scalar(
        "SELECT f.rows_loaded + (SELECT sum(r.last_line_number - r.line_number + 1) "
        "FROM ingest.rejects r WHERE r.file_id = f.file_id) FROM ingest.files f "
        "WHERE f.source = %s", (name,)) == len(lines) - 1


def test_small_files_of_each_line_end_load_together_as_copy_loads_each(cluster, data_dir):
    """Small files found together may share a batch (one COPY of their spans): one COPY refuses
    a mix of line ends, which then loads file by file; every file loads row for row as COPY
    loads it."""
    name = "shared_ends"
    new_source(cluster, data_dir, name, batch_size=1000)
    cluster.query(f"CREATE TABLE {name}_copy (LIKE {name})")
    paths, lines = [], []
    for number in range(9):
        end = list(LINE_ENDS.values())[number % 3]
        rows = [f"{number * 100 + r},{NOTES[(number + r) % len(NOTES)]}" for r in range(5)]
        paths.append(data_dir / f"{name}_{number}.csv")
        text = end.join(["id,note"] + rows) + end
        write_file(paths[-1], text)
        lines.append(lines_of(text, end))
    for path in paths:
        cluster.query(f"COPY {name}_copy FROM %s (FORMAT csv, HEADER true)", (str(path),))
    cluster.query("SELECT ingest.start(%s)", (name,))
    wait_idle(cluster, name)
    assert cluster.query(f"SELECT * FROM {name} ORDER BY id") == \
        cluster.query(f"SELECT * FROM {name}_copy ORDER BY id")
    assert cluster.query("SELECT status, rows_loaded, rows_rejected, line_number FROM ingest.files "
                         "WHERE source = %s ORDER BY file_name", (name,)) == \
        [("done", 5, 0, count) for count in lines]
    assert rejects(cluster, name) == []


def test_a_lone_carriage_return_file_without_a_header_loads_as_copy_loads_it(cluster, data_dir):
    """Without a header, the first data row decides the line end, for the reader and for the
    scanner that hands the spans to COPY."""
    name = "headerless_cr"
    rows = [f"{i},{NOTES[i % len(NOTES)]}" for i in range(30)]
    text = "\r".join(rows) + "\r"
    path = data_dir / f"{name}.csv"
    write_file(path, text)
    new_source(cluster, data_dir, name, start=True, batch_size=4,
               options=json.dumps({"header": False}))
    wait_idle(cluster, name)
    cluster.query(f"CREATE TABLE {name}_copy (LIKE {name})")
    cluster.query(f"COPY {name}_copy FROM %s (FORMAT csv)", (str(path),))
    assert cluster.query(f"SELECT * FROM {name} ORDER BY id") == \
        cluster.query(f"SELECT * FROM {name}_copy ORDER BY id")
    assert file_row(cluster, name) == [("done", 30, 0, lines_of(text, "\r"), None)]
    assert cluster.query("SELECT batches_direct_copy FROM ingest.metrics WHERE source = %s",
                         (name,)) == [(8,)]
