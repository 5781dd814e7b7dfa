#!/usr/bin/env bash
# Runs every test from nothing against every PostgreSQL major Debian packages (PG_MAJORS, default
# "15 17 18 19"; e.g. PG_MAJORS="15" for a quick check): for each, the unit tests built with that
# Debian's compiler, pg_regress and the whole integration suite against a real server of that
# major (scripts/test_one_major.sh). 15 runs natively on Debian 12; the others run in Debian
# chroots that scripts/chroot.sh chooses by the suites that package them and keeps under
# /var/cache/pg_ingest, on a fresh copy of this tree. With 15: the sanitizer job and the fuzzing
# job; with 15 and a newer major, a database dumped on 15 is then restored on the newest
# (tests/cross_major).
# The jobs run at the same time in lanes (the table JOBS below): the tests mostly wait for
# servers and workers, so one lane leaves the machine mostly idle. Each job's output goes to a
# log of its own, printed whole in the table's order once the job has ended. Then one line per
# job, a major's with the suite and version it came from, and the total "N passed, M failed"
# last.
# STRESS=1 runs it all on a busy machine: two CPU-bound processes and one disk-bound one run
# beside the suite (chroot runs included: they share the machine) until it ends.
# Runs as root.
set -uo pipefail
cd "$(dirname "$0")/.."
PG_MAJORS=${PG_MAJORS:-"15 17 18 19"}
# The native major: Debian 12's own. PG_CONFIG may point at another install of it.
native_major=15
native_pg_config=${PG_CONFIG:-/usr/lib/postgresql/$native_major/bin/pg_config}

# The jobs, one a line: LANE | NAME | AFTER | LABEL | COMMAND. The lanes run at the same time,
# each its jobs one after the other in this order; a job starts once every job named in AFTER
# (comma-separated, "-" for none; a job not run this time counts as ended) has ended. COMMAND is
# run by bash in this directory and ends its output with "N passed, M failed"; LABEL names it in
# the summary. Logs and summary lines come in this table's order, whatever the lanes.
# pgN runs when N is in PG_MAJORS; sanitize, fuzz and cross need the native major (and
# SANITIZE, FUZZ not 0, and a newer major); any other job always runs.
# Lanes by measurement on the 2-vCPU machine (README, "Tests"; one at a time: 15 ~840 s, 17 ~770,
# 18 ~800, 19 ~800-1300, sanitizers ~1170, fuzzing ~280, the dump test ~3; together they used
# under half of the two CPUs): the four longest lead four lanes, and the dump test, which needs
# 15 and the newest major, waits for them in lane 1.
JOBS="
1 | pg15     | -                   | PostgreSQL 15             | run_major 15
4 | pg17     | -                   | PostgreSQL 17             | run_major 17
4 | pg18     | -                   | PostgreSQL 18             | run_major 18
2 | pg19     | -                   | PostgreSQL 19             | run_major 19
3 | sanitize | -                   | sanitizers, PostgreSQL 15 | bash scripts/sanitize.sh
1 | versions | -                   | versions agree (control, CHANGELOG.md, META.json, debian/changelog) | run_versions
1 | fuzz     | -                   | fuzzing                   | bash tests/fuzz/run.sh
2 | docker   | -                   | containers (podman, PostgreSQL 15) | bash tests/docker/run.sh
1 | cross    | pg15,pg17,pg18,pg19 | dump on 15, restore on the newest major | run_cross
"

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
# Several servers run at once, each watching with one inotify instance per worker, and all of
# them (chroots included) run as the same uid: fs.inotify.max_user_instances (Debian's default
# is 128) is raised to 1024 for the run and set back when it ends.
inotify_limit=/proc/sys/fs/inotify/max_user_instances
inotify_before=$(cat "$inotify_limit")
if [ "$inotify_before" -lt 1024 ]; then echo 1024 >"$inotify_limit"; fi
lane_pids=()
end_run() {
    local pid
    for pid in "${lane_pids[@]}"; do kill "$pid" 2>/dev/null; done
    stop_stress
    [ "$(cat "$inotify_limit")" = 1024 ] && [ "$inotify_before" -lt 1024 ] &&
        echo "$inotify_before" >"$inotify_limit"
    rm -rf "$work"
}
trap end_run EXIT

passed=0
failed=0
summaries=()

# Adds the counts of a log whose last line is "N passed, M failed" under the given label. A job
# that cannot run on this machine at all (no container engine) says so in its last line and
# counts as neither.
count() {
    local label=$1 log=$2 last p f
    last=$(tail -n 1 "$log")
    if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
    elif [[ $last =~ cannot\ run\ here:\ 0\ run$ ]]; then
        p=0 f=0
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

# A major's job (a lane's command). Writes its summary label to pgN.label and, for a chroot that
# came up, its suite to pgN.suite (for the dump test).
run_major() {
    local major=$1 origin="Debian 12, native"
    if [ "$major" = "$native_major" ]; then
        PG_CONFIG=$native_pg_config bash scripts/test_one_major.sh
    else
        local suite=${suite_of[$major]:-none}
        if [ "$suite" = none ] || ! bash scripts/chroot.sh ensure "$suite" "$major"; then
            echo "0 passed, 1 failed"
            origin="no chroot"
        else
            origin=$(bash scripts/chroot.sh origin "$suite" "$major")
            echo "$suite" >"$work/pg$major.suite"
            # A directory per major: majors of one suite share its chroot.
            copy_into_chroot "/var/cache/pg_ingest/chroot-$suite/root/pg_ingest-$major"
            bash scripts/chroot.sh run "$suite" -- env PG_MAJOR="$major" \
                PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" \
                bash "/root/pg_ingest-$major/scripts/test_one_major.sh"
        fi
    fi
    echo "PostgreSQL $major ($origin)" >"$work/pg$major.label"
}

# The version check's job: one test.
run_versions() {
    if bash scripts/check_versions.sh; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
}

# The dump test's job: restores on the newest major whose chroot came up.
run_cross() {
    local newest suite passed=0 failed=0
    newest=$(cd "$work" && ls pg*.suite 2>/dev/null | tr -dc '0-9\n' | sort -n | tail -n 1)
    echo "dump on $native_major, restore on ${newest:-a newer major}" >"$work/cross.label"
    if [ -z "$newest" ]; then
        echo "no chroot of a newer major came up"
        echo "0 passed, 1 failed"
        return
    fi
    suite=$(cat "$work/pg$newest.suite")
    PG_CONFIG=$native_pg_config PG_INGEST_NEW_MAJOR=$newest PG_INGEST_NEW_SUITE=$suite \
        /usr/bin/python3 -m pytest -p no:cacheprovider -q tests/cross_major >"$work/cross.pytest" 2>&1
    cat "$work/cross.pytest"
    source scripts/counts.sh
    add_pytest_counts "$work/cross.pytest"
    echo "$passed passed, $failed failed"
}

# Whether the job NAME runs this time (the rules above the table).
selected() {
    local in_majors=" $PG_MAJORS " newer
    newer=$(printf '%s\n' $PG_MAJORS | grep -vx "$native_major")
    case $1 in
    pg*) [[ $in_majors == *" ${1#pg} "* ]] ;;
    sanitize) [[ $in_majors == *" $native_major "* && ${SANITIZE:-1} = 1 ]] ;;
    fuzz) [[ $in_majors == *" $native_major "* && ${FUZZ:-1} = 1 ]] ;;
    cross) [[ $in_majors == *" $native_major "* && -n $newer ]] ;;
    docker) [[ $in_majors == *" $native_major "* && ${DOCKER:-1} = 1 ]] ;;
    *) true ;;
    esac
}

# The table's rows that run, each as "LANE|NAME|AFTER|LABEL|COMMAND" without padding; a major of
# PG_MAJORS the table lacks gets a row in lane 1.
rows=()
while IFS='|' read -r lane name after label command; do
    read -r name <<<"$name"
    [ -n "$name" ] || continue
    selected "$name" || continue
    rows+=("$(echo $lane)|$name|$(echo $after)|$(echo $label)|$(echo $command)")
done <<<"$JOBS"
for major in $PG_MAJORS; do
    [[ $JOBS == *"| pg$major "* ]] ||
        rows=("1|pg$major|-|PostgreSQL $major|run_major $major" "${rows[@]}")
done
names=$(printf '%s\n' "${rows[@]}" | cut -d'|' -f2 | tr '\n' ' ')

# One lane: its jobs in order, each once those it comes after have ended. A job's output goes
# to NAME.log, its seconds to NAME.seconds, then NAME.done says it ended.
run_lane() {
    local lane=$1 row l name after label command dep start
    for row in "${rows[@]}"; do
        IFS='|' read -r l name after label command <<<"$row"
        [ "$l" = "$lane" ] || continue
        for dep in ${after//,/ }; do
            [[ " $names " == *" $dep "* ]] || continue
            while [ ! -e "$work/$dep.done" ]; do sleep 1; done
        done
        start=$SECONDS
        (eval "$command") >"$work/$name.log" 2>&1 </dev/null
        echo $((SECONDS - start)) >"$work/$name.seconds"
        touch "$work/$name.done"
    done
}

echo "== no timing bound in tests"
python3 scripts/check_no_timing_asserts.py >"$work/timing.log" 2>&1
cat "$work/timing.log"
count "no timing bound in tests (scripts/check_no_timing_asserts.py)" "$work/timing.log"

# What the native jobs need on this machine, installed once before they run at the same time.
if [[ " $PG_MAJORS " == *" $native_major "* ]]; then
    source scripts/packages.sh
    packages=$(pg_ingest_packages "$native_major")
    selected fuzz && packages+=" $(pg_ingest_fuzz_packages)"
    selected docker && packages+=" $(pg_ingest_container_packages)"
    # shellcheck disable=SC2086
    install_missing_packages $packages
fi

# The suites of the majors run in chroots, read from the suites' indexes once for all of them.
declare -A suite_of
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

for lane in $(printf '%s\n' "${rows[@]}" | cut -d'|' -f1 | sort -un); do
    echo "== lane $lane: $(printf '%s\n' "${rows[@]}" | awk -F'|' -v l="$lane" \
        '$1 == l {printf "%s%s", s, $4; s = ", "}')"
    run_lane "$lane" &
    lane_pids+=($!)
done

for row in "${rows[@]}"; do
    IFS='|' read -r lane name after label command <<<"$row"
    while [ ! -e "$work/$name.done" ]; do sleep 1; done
    [ -f "$work/$name.label" ] && label=$(cat "$work/$name.label")
    echo "== $label (lane $lane, $(cat "$work/$name.seconds") s)"
    cat "$work/$name.log"
    count "$label" "$work/$name.log"
    summaries[-1]+=" ($(cat "$work/$name.seconds") s)"
done
wait
if ! selected cross; then
    summaries+=("dump on $native_major, restore on a newer major: not run, PG_MAJORS=\"$PG_MAJORS\" lacks $native_major or a newer major")
fi

printf '%s\n' "${summaries[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
