#!/usr/bin/env python3
"""CI check: no test asserts a duration, and no test waits with a deadline under 10 s.

Speed is measured by bench/ (bench/bench.py, bench/RESULTS.md), never asserted by a test: a
test waits for the state it needs, with a generous deadline there only so that a hang fails,
and asserts outcomes. The rule, one line at a time, over tests/ (.py, .cpp, .hpp) and sql/:

1. An upper bound on a measured time. A Python `assert` with `<` or `<=` before a number, or a
   GoogleTest EXPECT_LT/LE or ASSERT_LT/LE, on a line that reads a clock (monotonic,
   perf_counter, time.time(), steady_clock, system_clock, now()) or names a measured time
   (elapsed, latency, delay, duration, slowest, took, p50, p99). Lower bounds (`>`,
   EXPECT_GE/GT) are allowed: a slow machine only makes them hold more surely.
2. A wait deadline under 10 s: a number under 10 as wait_until's timeout (the number before
   its description string) or as `timeout=`, and a wait_idle timeout under 10 s ('5s', '300ms').

A tripwire for the usual forms, not a proof: review keeps the rest out.
Prints each offending line, then "1 passed, 0 failed" or "0 passed, 1 failed" (scripts/test.sh
counts it as one test).
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT_SECONDS = 10
MEASURED_TIME = re.compile(r"monotonic|perf_counter|time\.time\(|steady_clock|system_clock|"
                           r"\bnow\(\)|elapsed|latenc|delay|duration|slowest|\btook\b|\bp50\b|\bp99\b")
PYTHON_UPPER_BOUND = re.compile(r"\bassert\b.*<=?\s*\d")
GTEST_UPPER_BOUND = re.compile(r"\b(EXPECT|ASSERT)_(LT|LE)\s*\(")
WAIT_UNTIL_TIMEOUT = re.compile(r"wait_until\(.*,\s*(\d+(?:\.\d+)?)\s*,\s*f?[\"']")
TIMEOUT_KEYWORD = re.compile(r"\btimeout=(\d+(?:\.\d+)?)\b")
WAIT_IDLE_TIMEOUT = re.compile(r"wait_idle\(.*[\"'](\d+(?:\.\d+)?)\s*(ms|s)[\"']")


def offence(path, line):
    """Why the line breaks the rule, or None."""
    if MEASURED_TIME.search(line):
        if path.suffix == ".py" and PYTHON_UPPER_BOUND.search(line):
            return "asserts an upper bound on a measured time"
        if path.suffix in (".cpp", ".hpp") and GTEST_UPPER_BOUND.search(line):
            return "asserts an upper bound on a measured time"
    for pattern in (WAIT_UNTIL_TIMEOUT, TIMEOUT_KEYWORD):
        match = pattern.search(line)
        if match and float(match.group(1)) < LIMIT_SECONDS:
            return f"waits with a deadline under {LIMIT_SECONDS} s"
    match = WAIT_IDLE_TIMEOUT.search(line)
    if match:
        seconds = float(match.group(1)) / (1000 if match.group(2) == "ms" else 1)
        if seconds < LIMIT_SECONDS:
            return f"waits with a deadline under {LIMIT_SECONDS} s"
    return None


def main():
    files = [p for p in sorted((ROOT / "tests").rglob("*")) if p.suffix in (".py", ".cpp", ".hpp")]
    files += sorted((ROOT / "sql").glob("*.sql"))
    found = 0
    for path in files:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            why = offence(path, line)
            if why:
                found += 1
                print(f"{path.relative_to(ROOT)}:{number}: {why}: {line.strip()}")
    print("1 passed, 0 failed" if found == 0 else "0 passed, 1 failed")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
