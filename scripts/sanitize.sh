#!/usr/bin/env bash
# The sanitizer job, on PostgreSQL 15 (Debian 12's own, g++ 12): the unit tests and the extension
# built with AddressSanitizer and UndefinedBehaviorSanitizer (-fno-sanitize-recover: the first
# report aborts), the extension installed into a private copy of PostgreSQL under this run's
# directory (never the system's), its servers started with libasan preloaded, and the chosen
# integration tests (SANITIZE_TESTS) run against them. Any sanitizer report fails the job and
# is printed: ASan writes its reports to files (ASAN_OPTIONS log_path), UBSan to the servers'
# stderr, whose logs tests/cluster.sh copies before a test cluster is deleted.
# Everything it builds and runs is in a copy of the tree under this run's directory (the tests
# use the sanitized eventgen), so it runs beside the native major's job, which builds in the
# tree. Ends with "N passed, M failed"; scripts/test.sh runs it as one of its jobs. Runs as root.
set -uo pipefail
cd "$(dirname "$0")/.."
SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# The integration tests run under the sanitizers: the files whose tests drive the C++ data
# path (reading, parsing, both COPY paths, compression, splitting, workers, kill -9), not the
# packaging, deployment, documentation or scale ones, to keep the job within CI's time budget.
SANITIZE_TESTS=${SANITIZE_TESTS:-"test_bad_input.py test_compressed.py test_copy_paths.py
    test_dedupe.py test_file_failures.py test_parallel_workers.py test_ready_marker.py
    test_schema_drift.py test_split.py test_transform.py test_worker.py"}
work=$(mktemp -d /tmp/pg_ingest_sanitize.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/reports" "$work/logs"
chown postgres: "$work/reports" "$work/logs"
source scripts/counts.sh
passed=0
failed=0
fail() {
    echo "$1" >&2
    echo "$passed passed, $((failed + 1)) failed"
    exit 1
}

# detect_leaks=0: a backend frees its memory by exiting, by design.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$work/reports/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

echo "== sanitizer job: unit tests"
# Warnings are the normal build's to fail on (-Werror there): under -fsanitize GCC 12 warns
# falsely (-Wmaybe-uninitialized inside libstdc++'s <regex>).
cmake -S . -B "$work/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DERROR_ON_WARNING=OFF \
    -DCMAKE_CXX_FLAGS="$SANITIZE" -DCMAKE_EXE_LINKER_FLAGS="$SANITIZE" >/dev/null &&
    cmake --build "$work/build" -j"$(nproc)" --target unit_tests eventgen >/dev/null ||
    fail "the sanitized unit tests do not build"
"$work/build/unit_tests" --gtest_brief=1 >"$work/unit.log" 2>&1
unit_status=$?
tail -n 30 "$work/unit.log"
add_gtest_counts "$work/unit.log" "$unit_status"

echo "== sanitizer job: the extension, in a private PostgreSQL 15"
pg=$work/pg
mkdir -p "$pg/usr/lib/postgresql" "$pg/usr/share/postgresql" "$pg/usr/include"
cp -a /usr/lib/postgresql/15 "$pg/usr/lib/postgresql/"
cp -a /usr/share/postgresql/15 "$pg/usr/share/postgresql/"
cp -a /usr/include/postgresql "$pg/usr/include/"
chmod -R a+rX "$pg"
export PG_CONFIG=$pg/usr/lib/postgresql/15/bin/pg_config
# A copy of the tree, so the sanitized objects never mix with the normal build's. CXX and CC
# (PGXS links the module with CC) carry the flags; PG_CPPFLAGS keeps its include paths.
mkdir "$work/src"
git ls-files -co --exclude-standard -z | tar -c --null -T - | tar -x -C "$work/src"
make -C "$work/src" -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG" ERROR_ON_WARNING=no \
    CXX="g++ $SANITIZE" CC="gcc $SANITIZE" >/dev/null &&
    make -C "$work/src" -s install PG_CONFIG="$PG_CONFIG" >/dev/null ||
    fail "the sanitized extension does not build"
preload=$work/asan_locale_preload.so
gcc -shared -fPIC -O2 -Wall -Wextra -Werror -o "$preload" tests/sanitize/asan_locale_preload.c \
    -ldl || fail "the preload shim does not build"
chmod a+rx "$preload"
libasan=$(gcc -print-file-name=libasan.so)

echo "== sanitizer job: integration tests ($(echo $SANITIZE_TESTS))"
# The copy's tests, with the copy's build/ the sanitized one (tests/integration/conftest.py
# runs ROOT/build/eventgen).
ln -s "$work/build" "$work/src/build"
tests=()
for name in $SANITIZE_TESTS; do tests+=("$work/src/tests/integration/$name"); done
PG_INGEST_SANITIZED=1 PG_INGEST_KEEP_LOGS=$work/logs \
    PG_INGEST_SERVER_ENV="LD_PRELOAD=$libasan:$preload ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=$UBSAN_OPTIONS" \
    /usr/bin/python3 -m pytest -p no:cacheprovider -q "${tests[@]}" >"$work/integration.log" 2>&1
cat "$work/integration.log"
add_pytest_counts "$work/integration.log"

echo "== sanitizer reports"
reports=0
for report in "$work"/reports/asan.*; do
    [ -e "$report" ] || continue
    echo "--- $report"
    cat "$report"
    reports=$((reports + 1))
done
for log in "$work"/logs/*.log; do
    [ -e "$log" ] || continue
    if grep -qE 'runtime error:|AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer' "$log"; then
        echo "--- $log"
        grep -E -B2 -A30 'runtime error:|AddressSanitizer|UndefinedBehaviorSanitizer' "$log"
        reports=$((reports + 1))
    fi
done
echo "$reports sanitizer report(s)"
# A report fails the job as one more failed test, whatever the tests said.
if [ "$reports" -gt 0 ]; then failed=$((failed + 1)); else passed=$((passed + 1)); fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
