"""Compressed data files: .csv.gz and .csv.zst load as their uncompressed text, exactly once
through a kill -9 in the middle of a file, with rejected lines quoted from the uncompressed text."""
import ctypes
import gzip
import os

from conftest import eventgen, eventgen_ddl, postgres_dir, wait_idle, wait_until

EVENTS = 30_000


def zstd_compress(data: bytes) -> bytes:
    """Through libzstd itself (PostgreSQL depends on it), with the frame checksum the zstd tool
    writes by default."""
    lib = ctypes.CDLL("libzstd.so.1")
    lib.ZSTD_compressBound.restype = ctypes.c_size_t
    lib.ZSTD_compress2.restype = ctypes.c_size_t
    lib.ZSTD_createCCtx.restype = ctypes.c_void_p
    lib.ZSTD_isError.argtypes = [ctypes.c_size_t]
    context = lib.ZSTD_createCCtx()
    checksum_flag = 201  # ZSTD_c_checksumFlag
    lib.ZSTD_CCtx_setParameter(ctypes.c_void_p(context), checksum_flag, 1)
    bound = lib.ZSTD_compressBound(ctypes.c_size_t(len(data)))
    out = ctypes.create_string_buffer(bound)
    size = lib.ZSTD_compress2(ctypes.c_void_p(context), out, ctypes.c_size_t(bound), data,
                              ctypes.c_size_t(len(data)))
    lib.ZSTD_freeCCtx(ctypes.c_void_p(context))
    assert not lib.ZSTD_isError(size)
    return out.raw[:size]


def place(directory, name, data: bytes):
    """Written under a hidden name, then renamed in: complete when it appears."""
    tmp = directory / f".{name}.tmp"
    tmp.write_bytes(data)
    os.rename(tmp, directory / name)


def test_gzip_and_zstd_files_load_exactly_once_through_a_kill_9(cluster):
    staging = postgres_dir("pg_ingest_compressed_src_")
    directory = postgres_dir("pg_ingest_compressed_")
    cluster.query(eventgen_ddl().replace("user_events", "zipped_events"))
    cluster.query("SELECT ingest.create_source('zipped', %s, 'zipped_events', '*.csv.*', 500)",
                  (str(directory),))
    eventgen(staging, "--files", 2, "--events", EVENTS, "--seed", 31)
    plain = sorted(staging.glob("*.csv"))
    place(directory, "a.csv.gz", gzip.compress(plain[0].read_bytes()))
    place(directory, "b.csv.zst", zstd_compress(plain[1].read_bytes()))

    cluster.query("SELECT ingest.start('zipped')")
    wait_until(lambda: cluster.scalar("SELECT count(*) FROM zipped_events") >= 3000, 60,
               "3,000 rows loaded")
    killed, restarted = cluster.kill_workers("zipped")
    loaded_before = cluster.scalar("SELECT count(*) FROM zipped_events")
    assert 3000 <= loaded_before < 2 * EVENTS, "loaded too fast to kill mid-load"
    assert restarted != killed
    wait_idle(cluster, "zipped")

    assert cluster.query(
        "SELECT file_name, status, rows_loaded, rows_rejected, line_number FROM ingest.files "
        "WHERE source = 'zipped' ORDER BY file_name") == [
            ("a.csv.gz", "done", EVENTS, 0, EVENTS + 1),
            ("b.csv.zst", "done", EVENTS, 0, EVENTS + 1)]
    assert cluster.query("SELECT count(*), count(DISTINCT event_id) FROM zipped_events") == \
        [(2 * EVENTS, 2 * EVENTS)]
    # byte_offset counts uncompressed bytes: where the text ends.
    assert cluster.scalar(
        "SELECT byte_offset FROM ingest.files WHERE file_name = 'a.csv.gz'") == \
        plain[0].stat().st_size


def test_rejects_quote_the_uncompressed_line_and_truncated_files_fail(cluster, data_dir):
    cluster.query("CREATE TABLE zipped_numbers (id bigint PRIMARY KEY, note text)")
    cluster.query("SELECT ingest.create_source('numbers', %s, 'zipped_numbers', '*.gz')",
                  (str(data_dir),))
    lines = ["id,note"] + [f"{i},n{i}" for i in range(1, 2001)]
    lines[1500] = "not-a-number,bad"
    place(data_dir, "a.csv.gz", gzip.compress(("\n".join(lines) + "\n").encode()))
    whole = gzip.compress(("id,note\n" + "".join(f"{i},t\n" for i in range(5000, 9000))).encode())
    place(data_dir, "b.csv.gz", whole[: len(whole) // 2])
    cluster.query("SELECT ingest.start('numbers')")
    wait_idle(cluster, "numbers")

    assert cluster.query(
        "SELECT line_number, raw_line, sqlstate FROM ingest.rejects WHERE source = 'numbers'") == \
        [(1501, "not-a-number,bad", "22P02")]
    assert cluster.query(
        "SELECT file_name, status, rows_loaded, rows_rejected FROM ingest.files "
        "WHERE source = 'numbers' ORDER BY file_name")[0] == ("a.csv.gz", "done", 1999, 1)
    status, error = cluster.query(
        "SELECT status, error FROM ingest.files WHERE file_name = 'b.csv.gz'")[0]
    assert status == "failed"
    assert error.startswith('source "numbers", file "b.csv.gz"') and \
        error.endswith("gzip: the data ends early"), error
    assert cluster.scalar("SELECT count(*) FROM zipped_numbers") == 1999 + cluster.scalar(
        "SELECT rows_loaded FROM ingest.files WHERE file_name = 'b.csv.gz'")


def zstd_frame_cut_short(text: bytes, kept: int) -> bytes:
    """A zstd frame whose header declares len(text) bytes, holding only the first `kept` of them
    in raw blocks, then an empty last block: what the fuzzer found libzstd's streaming decoder
    (and `zstd -t`) accept as a whole frame."""
    header = b"\x28\xb5\x2f\xfd" + bytes([0xA0]) + len(text).to_bytes(4, "little")
    blocks = b""
    for start in range(0, kept, 100_000):
        chunk = text[start:min(kept, start + 100_000)]
        blocks += (len(chunk) << 3).to_bytes(3, "little") + chunk  # raw, not last
    return header + blocks + (1).to_bytes(3, "little")  # raw, last, empty


def test_a_zstd_frame_shorter_than_its_declared_size_fails_instead_of_loading(cluster, data_dir):
    cluster.query("CREATE TABLE cut_numbers (id bigint PRIMARY KEY, note text)")
    cluster.query("SELECT ingest.create_source('cut', %s, 'cut_numbers', '*.zst', 100000)",
                  (str(data_dir),))
    text = ("id,note\n" + "".join(f"{i},note {i}\n" for i in range(30_000))).encode()
    kept = 200_000  # more than one read of the compressed file: libzstd streams the frame
    place(data_dir, "cut.csv.zst", zstd_frame_cut_short(text, kept))
    place(data_dir, "whole.csv.zst", zstd_frame_cut_short(text, len(text)))
    cluster.query("SELECT ingest.start('cut')")
    wait_idle(cluster, "cut")

    assert cluster.query(
        "SELECT file_name, status, rows_loaded, rows_rejected, error FROM ingest.files "
        "WHERE source = 'cut' ORDER BY file_name") == [
            ("cut.csv.zst", "failed", 0, 0,
             f'source "cut", file "cut.csv.zst": zstd: a frame ends after {kept} of the '
             f"{len(text)} bytes its header declares"),
            ("whole.csv.zst", "done", 30_000, 0, None)]
    assert cluster.query("SELECT count(*), count(DISTINCT id) FROM cut_numbers") == \
        [(30_000, 30_000)]
    cluster.query("SELECT ingest.stop('cut')")
