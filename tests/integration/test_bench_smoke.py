"""bench/run.sh at a tiny scale: exits 0 and prints a row for every case and method."""
import os
import re
import subprocess

from conftest import ROOT


def test_bench_smoke():
    env = dict(os.environ, SCALE="0.001")
    result = subprocess.run(["bash", str(ROOT / "bench" / "run.sh")], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = re.findall(r"^\| (pk|noidx) (\d+x\d+) \| (COPY|pg_ingest|pg_ingest, 2 workers) \| (\d+) \|",
                      result.stdout, re.M)
    seen = {(idx, method) for idx, _, method, _ in rows}
    assert seen == {(i, m) for i in ("pk", "noidx")
                    for m in ("COPY", "pg_ingest", "pg_ingest, 2 workers")}, result.stdout
    # 2 index variants x 3 shapes x (COPY, one worker), two workers on the 100-file shape and on
    # the pk 1-file shape (split_bytes); then the transform cases' own COPY on the 1-file and
    # 100-file shapes
    assert len(rows) == 17, result.stdout
    transform_rows = re.findall(r"^\| pk (\d+x\d+) \| pg_ingest, (identity|revenue aggregate) "
                                r"transform \| (\d+) \|", result.stdout, re.M)
    assert len(transform_rows) == 4, result.stdout
    assert len({shape for _, shape, _, _ in rows}) == 3, result.stdout
    assert "per-file overhead (pk)" in result.stdout
    assert "file-to-commit latency" in result.stdout and "p99" in result.stdout
    # the latency cases of bench/latency_cases.py, one line each
    for case in ("new-file delay among 100 loaded files: p50",
                 "new-file delay among 1000 rows of ingest.files: before the purge p50",
                 "start of a source waiting for a worker, from the stop that frees one: p50",
                 "with a running source: DROP DATABASE doomed: "):
        assert case in result.stdout, result.stdout
