#!/usr/bin/env bash
# Runs every test against one PostgreSQL major, that of PG_CONFIG (default: Debian 12's own 15),
# from nothing: installs and builds what is missing with every warning an error, then unit tests
# (GoogleTest), regression tests (pg_regress against a throwaway cluster with pg_ingest preloaded)
# and integration tests (pytest against real servers: real files, inotify, kill -9), then the
# Citus crash tests where citus is installed (tests/citus/run.sh).
# Ends with one line "N passed, M failed" counting every test run. scripts/test.sh runs it once
# per major, natively or inside that major's Debian chroot.
set -uo pipefail
cd "$(dirname "$0")/.."
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/${PG_MAJOR:-15}/bin/pg_config}
ERROR_ON_WARNING=yes bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

work=$(mktemp -d /tmp/pg_ingest_test.XXXXXX)
chmod 755 "$work"
trap 'tests/cluster.sh destroy "$work/regress" >/dev/null 2>&1; rm -rf "$work"' EXIT
passed=0
failed=0

source scripts/counts.sh

echo "== unit tests"
build/unit_tests --gtest_brief=1 >"$work/unit.log" 2>&1
unit_status=$?
tail -n 30 "$work/unit.log"
add_gtest_counts "$work/unit.log" "$unit_status"

echo "== regression tests"
# The files the regression tests' sources watch: in this run's own directory, which the server
# (the postgres OS user) writes.
export PG_INGEST_REGRESS_DIR="$work/regress_files"
mkdir -p "$PG_INGEST_REGRESS_DIR"
chown postgres: "$PG_INGEST_REGRESS_DIR"
tests/cluster.sh init "$work/regress"
tests/cluster.sh start "$work/regress"
eval "$(tests/cluster.sh env "$work/regress")"
make -s installcheck PG_CONFIG="$PG_CONFIG" >"$work/regress.log" 2>&1
cat "$work/regress.log"
[ -f regression.diffs ] && head -n 200 regression.diffs
# pg_regress reports "test NAME ... ok" up to 15 and TAP ("ok 1 - NAME", "not ok 2 - NAME") since 16.
regress_passed=$(grep -cE '^(test| )? *[a-z_0-9]+ +\.\.\. ok|^ok [0-9]+ ' "$work/regress.log")
regress_failed=$(grep -cE '\.\.\. FAILED|^not ok [0-9]+ ' "$work/regress.log")
if ! grep -q 'tests passed' "$work/regress.log" && [ "$regress_failed" -eq 0 ]; then regress_failed=1; fi
# Nothing counted is a format this script does not know, not a pass.
if [ "$regress_passed" -eq 0 ] && [ "$regress_failed" -eq 0 ]; then regress_failed=1; fi
passed=$((passed + regress_passed))
failed=$((failed + regress_failed))
tests/cluster.sh destroy "$work/regress"
unset PGHOST PGPORT PGUSER PGDATABASE

echo "== integration tests"
/usr/bin/python3 -m pytest -p no:cacheprovider -q tests/integration >"$work/integration.log" 2>&1
cat "$work/integration.log"
add_pytest_counts "$work/integration.log"

echo "== citus tests"
# Only where the citus extension is installed for PG_CONFIG (not in CI): elsewhere the runner
# prints "citus not installed: 0 run", which counts as neither passed nor failed.
ERROR_ON_WARNING=yes bash tests/citus/run.sh >"$work/citus.log" 2>&1
cat "$work/citus.log"
if ! grep -qx "citus not installed: 0 run" "$work/citus.log"; then
    add_pytest_counts "$work/citus.log"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
