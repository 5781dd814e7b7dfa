#!/usr/bin/env bash
# Runs every test from nothing against every PostgreSQL major Debian packages (PG_MAJORS, default
# "15 17 18 19"; e.g. PG_MAJORS="15" for a quick check), one after the other: for each, the unit
# tests built with that Debian's compiler, pg_regress and the whole integration suite against a
# real server of that major (scripts/test_one_major.sh). 15 runs natively on Debian 12; the others
# run in Debian chroots that scripts/chroot.sh chooses by the suites that package them and keeps
# under /var/cache/pg_ingest, on a fresh copy of this tree. With 15 and a newer major, a database
# dumped on 15 is then restored on the newest (tests/cross_major). Prints one line per major, with
# the suite and version it came from, then the total "N passed, M failed" last.
# STRESS=1 runs it all on a busy machine: two CPU-bound processes and one disk-bound one run
# beside the suite (chroot runs included: they share the machine) until it ends.
# Runs as root.
set -uo pipefail
cd "$(dirname "$0")/.."
PG_MAJORS=${PG_MAJORS:-"15 17 18 19"}
# The native major: Debian 12's own. PG_CONFIG may point at another install of it.
native_major=15
native_pg_config=${PG_CONFIG:-/usr/lib/postgresql/$native_major/bin/pg_config}
work=$(mktemp -d /tmp/pg_ingest_majors.XXXXXX)
stress_groups=()
# Each stressor leads a process group of its own (setsid), so that ending it ends its children.
stop_stress() {
    local group
    for group in "${stress_groups[@]}"; do kill -- "-$group" 2>/dev/null; done
    for group in "${stress_groups[@]}"; do
        while kill -0 -- "-$group" 2>/dev/null; do sleep 0.1; done
    done
}
trap 'stop_stress; rm -rf "$work"' EXIT

# STRESS=1: two busy loops (one CPU each) and a writer that writes and fsyncs 256 MB over and
# over, in this run's directory (the same disk as the tests' clusters).
if [ "${STRESS:-0}" = 1 ]; then
    for _ in 1 2; do
        setsid bash -c 'while :; do :; done' &
        stress_groups+=($!)
    done
    setsid bash -c 'while :; do
        dd if=/dev/zero of="$1/stress.bin" bs=1M count=256 conv=fsync status=none
        rm -f "$1/stress.bin"
    done' stress "$work" &
    stress_groups+=($!)
    echo "== STRESS=1: two CPU-bound and one disk-bound process run beside the suite" \
        "(process groups ${stress_groups[*]})"
fi
passed=0
failed=0
summaries=()
# The chroot suite of each major run in one (after its run: of each that came up, for the dump test).
declare -A suite_of

# Adds the counts of a log whose last line is "N passed, M failed" under the given label.
count() {
    local label=$1 log=$2 last p f
    last=$(tail -n 1 "$log")
    if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
    else
        p=0 f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    summaries+=("$label: $p passed, $f failed")
}

# The tree as it is (committed or not, without build output) copied into a chroot, so each
# major builds from the same sources with its own compiler and none sees another's objects.
copy_into_chroot() {
    local target=$1
    rm -rf "$target"
    mkdir -p "$target"
    git ls-files -co --exclude-standard -z | tar -c --null -T - | tar -x -C "$target"
}

run_major() {
    local major=$1 log="$work/$1.log" start=$SECONDS origin="Debian 12, native"
    echo "== PostgreSQL $major"
    if [ "$major" = "$native_major" ]; then
        PG_CONFIG=$native_pg_config bash scripts/test_one_major.sh 2>&1 | tee "$log"
    else
        local suite=${suite_of[$major]}
        if [ "$suite" = none ] ||
            ! bash scripts/chroot.sh ensure "$suite" "$major" >"$log" 2>&1; then
            cat "$log"
            echo "0 passed, 1 failed" >>"$log"
            origin="no chroot"
            unset "suite_of[$major]"
        else
            origin=$(bash scripts/chroot.sh origin "$suite" "$major")
            copy_into_chroot "/var/cache/pg_ingest/chroot-$suite/root/pg_ingest"
            bash scripts/chroot.sh run "$suite" -- env PG_MAJOR="$major" \
                PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" \
                bash /root/pg_ingest/scripts/test_one_major.sh 2>&1 | tee "$log"
        fi
    fi
    count "PostgreSQL $major ($origin)" "$log"
    summaries[-1]+=" ($((SECONDS - start)) s)"
}

echo "== no timing bound in tests"
python3 scripts/check_no_timing_asserts.py >"$work/timing.log" 2>&1
cat "$work/timing.log"
count "no timing bound in tests (scripts/check_no_timing_asserts.py)" "$work/timing.log"

# The suites of the majors run in chroots, read from the suites' indexes once for all of them.
chroot_majors=$(printf '%s\n' $PG_MAJORS | grep -vx "$native_major")
if [ -n "$chroot_majors" ]; then
    # shellcheck disable=SC2086
    mapfile -t suites < <(bash scripts/chroot.sh suite $chroot_majors)
    i=0
    for major in $chroot_majors; do
        suite_of[$major]=${suites[i]:-none}
        i=$((i + 1))
    done
fi

for major in $PG_MAJORS; do run_major "$major"; done

# With the native major: the sanitizer job (scripts/sanitize.sh) and the fuzzing job
# (tests/fuzz/run.sh, FUZZ_SECONDS per harness), each counted like a major. SANITIZE=0 or FUZZ=0
# leaves one out, for a quicker check; CI runs both.
jobs=()
[ "${SANITIZE:-1}" = 1 ] && jobs+=("sanitizers, PostgreSQL $native_major:scripts/sanitize.sh")
[ "${FUZZ:-1}" = 1 ] && jobs+=("fuzzing:tests/fuzz/run.sh")
if [[ " $PG_MAJORS " == *" $native_major "* ]]; then
    for job in "${jobs[@]}"; do
        echo "== ${job%%:*}"
        start=$SECONDS
        bash "${job#*:}" 2>&1 | tee "$work/job.log"
        count "${job%%:*}" "$work/job.log"
        summaries[-1]+=" ($((SECONDS - start)) s)"
    done
fi

# The newest major that came up in a chroot: the dump test restores there.
newest_major=$(printf '%s\n' "${!suite_of[@]}" | sort -n | tail -n 1)
cross_label="dump on $native_major, restore on ${newest_major:-a newer major}"
if [[ " $PG_MAJORS " == *" $native_major "* && -n $newest_major ]]; then
    echo "== $cross_label"
    start=$SECONDS
    PG_CONFIG=$native_pg_config PG_INGEST_NEW_MAJOR=$newest_major \
        PG_INGEST_NEW_SUITE=${suite_of[$newest_major]} /usr/bin/python3 -m pytest \
        -p no:cacheprovider -q tests/cross_major >"$work/cross.log" 2>&1
    cat "$work/cross.log"
    summary=$(tail -n 1 "$work/cross.log")
    p=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
    f=$(grep -oE '[0-9]+ (failed|errors?)' <<<"$summary" | awk '{s += $1} END {print s + 0}')
    [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && f=1
    echo "$p passed, $f failed" >"$work/cross.count"
    count "$cross_label" "$work/cross.count"
    summaries[-1]+=" ($((SECONDS - start)) s)"
else
    summaries+=("$cross_label: not run, PG_MAJORS=\"$PG_MAJORS\" lacks $native_major or a newer major")
fi

printf '%s\n' "${summaries[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
