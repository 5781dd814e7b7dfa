# Counting test results into the callers' `passed` and `failed`: sourced by
# scripts/test_one_major.sh and scripts/sanitize.sh.

# Adds the counts of pytest's summary, the log's last line; a summary with no count is a failure.
add_pytest_counts() {
    local summary p f
    summary=$(tail -n 1 "$1")
    p=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+' || true)
    f=$(grep -oE '[0-9]+ (failed|errors?)' <<<"$summary" | awk '{s += $1} END {print s + 0}')
    p=${p:-0}
    f=${f:-0}
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p))
    failed=$((failed + f))
}

# Adds the counts of a GoogleTest log (--gtest_brief=1) whose binary exited with status $2; a
# failing exit with no failed test counted (a crash) is one failure.
add_gtest_counts() {
    local p f
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) tests\?\..*/\1/p' "$1")
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) tests\?, listed below.*/\1/p' "$1")
    p=${p:-0}
    f=${f:-0}
    if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p))
    failed=$((failed + f))
}
