#!/usr/bin/env bash
# The fuzzing job: builds each libFuzzer harness of tests/fuzz with Debian's clang 14
# (-fsanitize=fuzzer,address,undefined), replays its committed seed corpus
# (tests/fuzz/corpus/NAME), then fuzzes it for FUZZ_SECONDS (default 60) from that corpus, with
# its dictionary. A crash, a sanitizer report, a hang (FUZZ_TIMEOUT s on one input, default 10)
# or a disagreement between the harness's readings fails the harness; its input is printed
# (base64 and hexdump) and kept under the run's directory. Prints each harness's executions.
#   bash tests/fuzz/run.sh                       # every harness, 60 s each
#   FUZZ_SECONDS=3600 FUZZ_HARNESSES=csv_span_scanner bash tests/fuzz/run.sh
#   FUZZ_WORK=/var/tmp/fuzz bash tests/fuzz/run.sh   # keep the grown corpus and any crash there
# Ends with "N passed, M failed" (one test per harness). Runs as root (installs clang if missing).
set -uo pipefail
cd "$(dirname "$0")/../.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-10}
FUZZ_HARNESSES=${FUZZ_HARNESSES:-"csv_reader csv_span_scanner gzip_source zstd_source jsonl_decoder"}
source scripts/packages.sh
install_missing_packages $(pg_ingest_fuzz_packages) || { echo "0 passed, 1 failed"; exit 1; }
if [ -n "${FUZZ_WORK:-}" ]; then
    work=$FUZZ_WORK
    mkdir -p "$work"
else
    work=$(mktemp -d /tmp/pg_ingest_fuzz.XXXXXX)
    trap 'rm -rf "$work"' EXIT
fi
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
flags=(-std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
    -Isrc -Itests/fuzz)
core=(src/core/csv/csv_reader.cpp src/core/csv/csv_span_scanner.cpp
    src/core/csv/compressed_source.cpp src/core/text/utf8_validation.cpp src/core/jsonl/*.cpp)
passed=0
failed=0

# Prints the inputs libFuzzer left (crash-, timeout-, oom-, leak-...) for the harness.
show_inputs() {
    local input
    for input in "$work/$1"-*; do
        [ -f "$input" ] || continue
        echo "--- input $input ($(stat -c %s "$input") bytes), base64:"
        base64 -w 100 "$input"
        echo "--- hexdump (first 1 kB):"
        head -c 1024 "$input" | od -A d -t x1z
    done
}

# A failed run's log from its first report line (ASan's "==N==ERROR:", UBSan's "runtime error:",
# libFuzzer's "ERROR:"), so a report is printed whole, not cut at its top; else its last 60 lines.
show_report() {
    local first
    first=$(grep -nE -m 1 'ERROR:|runtime error' "$1" | cut -d: -f1)
    if [ -n "$first" ]; then tail -n "+$first" "$1"; else tail -n 60 "$1"; fi
}

# The build, the corpus replay and the timed run of one harness; 0 if all pass.
fuzz_one() {
    local name=$1 dict=tests/fuzz/csv.dict
    [[ $name == *_source ]] && dict=tests/fuzz/compressed.dict
    [[ $name == jsonl_* ]] && dict=tests/fuzz/json.dict
    clang++-14 "${flags[@]}" "tests/fuzz/${name}_fuzzer.cpp" "${core[@]}" -lcsv -lz -lzstd -lsimdjson \
        -o "$work/$name" || { echo "$name: does not build"; return 1; }
    "$work/$name" -runs=0 -timeout="$FUZZ_TIMEOUT" -artifact_prefix="$work/$name-" \
        "tests/fuzz/corpus/$name" >"$work/$name.replay.log" 2>&1 ||
        { show_report "$work/$name.replay.log"; echo "$name: the committed corpus fails"; return 1; }
    # Grows a copy: the committed corpus stays as it is.
    mkdir -p "$work/$name.corpus"
    "$work/$name" -max_total_time="$FUZZ_SECONDS" -timeout="$FUZZ_TIMEOUT" -rss_limit_mb=2048 \
        -dict="$dict" -print_final_stats=1 -artifact_prefix="$work/$name-" \
        "$work/$name.corpus" "tests/fuzz/corpus/$name" >"$work/$name.log" 2>&1
    local status=$?
    echo "$name: $(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log") executions" \
        "in $FUZZ_SECONDS s, corpus $(find "$work/$name.corpus" -type f | wc -l) new inputs"
    if [ "$status" -ne 0 ]; then
        grep -vE '^#[0-9]+' "$work/$name.log" >"$work/$name.report"
        show_report "$work/$name.report"
        echo "$name: FAILED"
        return 1
    fi
}

echo "== fuzzing: $FUZZ_HARNESSES, $FUZZ_SECONDS s each"
for name in $FUZZ_HARNESSES; do
    if fuzz_one "$name"; then
        passed=$((passed + 1))
    else
        show_inputs "$name"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
