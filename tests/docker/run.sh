#!/usr/bin/env bash
# The Docker Compose stack, run for real with podman: docker/Dockerfile and
# docker/docker-compose.yml unchanged, on stand-in images of postgres:15-bookworm and the
# exporter built from Debian 12's packages (tests/docker/standin/), without pgAdmin.
# Installs what it needs from Debian (scripts/packages.sh), and keeps everything in a private
# configuration and storage under a temporary directory (CONTAINERS_CONF,
# CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF): /etc/containers and any other podman
# storage are never touched, and the official image names exist only in that storage. The stand-in
# images are kept between runs as one tarball under /var/cache/pg_ingest/docker, named by the hash
# of their Dockerfiles, entrypoint and base system. On exit it removes the stack, every image,
# volume and network, and the storage itself.
# Each check prints "ok - NAME" or "FAILED - NAME: why"; the last line is "N passed, M failed",
# and the status is 0 only if M is 0. Where podman cannot run (not root, no packages, no
# container starts), it prints why and then "podman cannot run here: 0 run" last, and exits 0:
# that counts as neither passed nor failed.
# Run as root.
#   bash tests/docker/run.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
CACHE=${PG_INGEST_CHROOTS:-/var/cache/pg_ingest}
STANDIN=$ROOT/tests/docker/standin
# podman-compose 1.0.3 ignores the file's "name:"; the same name by -p, so the containers are
# PROJECT_SERVICE_1 and the volumes PROJECT_VOLUME as with docker compose v2.
PROJECT=pg_ingest
DB=${PROJECT}_db_1
# The official names docker/Dockerfile (ARG PG_IMAGE, PG_MAJOR 15) and the compose file's
# exporter use: given to the stand-ins inside the private storage only.
OFFICIAL_POSTGRES=docker.io/library/postgres:15-bookworm
OFFICIAL_EXPORTER=quay.io/prometheuscommunity/postgres-exporter:v0.15.0
# Generous deadlines, so that only a hang fails.
DEADLINE=180

source scripts/packages.sh

not_runnable() {
    echo "$*"
    echo "podman cannot run here: 0 run"
    exit 0
}

[ "$(id -u)" = 0 ] || not_runnable "not root: podman runs here as root only"
# shellcheck disable=SC2046
install_missing_packages $(pg_ingest_container_packages) ||
    not_runnable "the container packages did not install: $(pg_ingest_container_packages)"
minbase=$(bash scripts/chroot.sh minbase bookworm) ||
    not_runnable "no minbase bookworm to make the base image from (scripts/chroot.sh minbase)"

work=$(mktemp -d /tmp/pg_ingest_docker.XXXXXX)
# podman's defaults exceed the hard limits here and root lacks CAP_SYS_RESOURCE; crun refuses a
# hybrid cgroup layout; there is no systemd to manage cgroups or to log events to. Networks,
# volumes and temporary files are kept in this run's directory too. Builds (and containers
# without a network of their own) use the host's network, so that netavark changes nothing on the
# host: the stack's network is made in the namespace below.
cat >"$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "host"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$work/events.log"
tmp_dir = "$work/tmp"
volume_path = "$work/storage/volumes"

[network]
network_backend = "netavark"
network_config_dir = "$work/networks"
CONF
cat >"$work/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$work/storage"
runroot = "$work/run"
CONF
# No registry is reachable: short names resolve to the images of this storage, as docker.io's.
cat >"$work/registries.conf" <<CONF
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
CONF
export CONTAINERS_CONF=$work/containers.conf CONTAINERS_STORAGE_CONF=$work/storage.conf
export CONTAINERS_REGISTRIES_CONF=$work/registries.conf

# The stack runs in a network namespace of this run's own: the ports the compose file publishes
# on 127.0.0.1 (5432, 9187) are that namespace's, whatever the host's own servers listen on.
# Builds run outside it, where the Debian mirror is reachable.
NETNS=pg_ingest_docker_$$
# nsenter, not "ip netns exec", which mounts a sysfs of its own without the cgroup mounts runc needs.
in_netns() { nsenter --net="/run/netns/$NETNS" "$@"; }
# The stack runs from a copy of the tree as git sees it (committed or not, without what it
# ignores), as from a fresh clone: a build in the working tree meanwhile changes nothing in the
# image's build context.
SRC=$work/src
compose() { (cd "$SRC/docker" && in_netns podman-compose -p "$PROJECT" -f docker-compose.yml "$@"); }
compose_build() { (cd "$SRC/docker" && podman-compose -p "$PROJECT" -f docker-compose.yml build "$@"); }

# Everything this run made, whatever state it stopped in: the stack, then the storage.
remove_all() {
    compose down -v >/dev/null 2>&1
    in_netns podman rm -af >/dev/null 2>&1
    podman rmi -af >/dev/null 2>&1
    podman volume prune -f >/dev/null 2>&1
    in_netns podman network prune -f >/dev/null 2>&1
}
# The storage itself: podman's overlay driver mounts STORAGE/overlay on itself, and a reset
# leaves that mount.
remove_storage() {
    podman system reset -f >/dev/null 2>&1
    while grep -q " $work/" /proc/mounts; do
        umount "$(awk -v w="$work/" 'index($2, w) == 1 {m = $2} END {print m}' /proc/mounts)" ||
            break
    done
    ip netns delete "$NETNS" 2>/dev/null
    rm -rf "$work"
}
cleanup() {
    # The last check may have removed it already.
    [ -d "$work" ] || return 0
    remove_all
    remove_storage
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir "$SRC" && git ls-files -co --exclude-standard -z | tar -c --null -T - | tar -x -C "$SRC"
ip netns add "$NETNS" && ip -n "$NETNS" link set lo up ||
    not_runnable "no network namespace of its own for the stack (ip netns add)"

passed=0
failed=0
pass() {
    echo "ok - $1"
    passed=$((passed + 1))
}
fail() {
    echo "FAILED - $1: $2"
    failed=$((failed + 1))
}
# The checks still to come when one that the rest need fails: each counts as failed.
CHECKS=(standins image healthy files_once status metrics restart metrics_restart cleanup)
abort_after() {
    local name reached=no
    for name in "${CHECKS[@]}"; do
        [ $reached = yes ] && fail "$name" "not reached: $1 failed"
        [ "$name" = "$1" ] && reached=yes
    done
    echo "$passed passed, $failed failed"
    exit 1
}

# The base system and whether a container runs at all (if not, podman cannot run here).
podman import "$minbase" localhost/pg_ingest-standin/debian:bookworm >"$work/import.log" 2>&1 &&
    podman run --rm localhost/pg_ingest-standin/debian:bookworm true >"$work/probe.log" 2>&1 ||
    not_runnable "podman cannot start a container here: $(cat "$work/import.log" "$work/probe.log")"

# The stand-ins, from the cache or built (a minute or two) and cached, then given the official names.
standins_ready() {
    local key cached
    key=$( (cat "$STANDIN"/*; sha256sum <"$minbase") | sha256sum | cut -c1-16)
    cached=$CACHE/docker/standins-$key.tar
    mkdir -p "$CACHE/docker"
    if [ -s "$cached" ]; then
        podman load -i "$cached" >"$work/standins.log" 2>&1 || return 1
    else
        podman build -f "$STANDIN/postgres.Dockerfile" \
            -t localhost/pg_ingest-standin/postgres:15-bookworm "$STANDIN" >"$work/standins.log" 2>&1 &&
            podman build -f "$STANDIN/exporter.Dockerfile" \
                -t localhost/pg_ingest-standin/postgres-exporter:debian "$STANDIN" \
                >>"$work/standins.log" 2>&1 || return 1
        # Written aside and renamed, so that a run that stops halfway leaves no truncated cache.
        rm -f "$CACHE"/docker/standins-*.tar
        podman save -q --multi-image-archive -o "$cached.tmp.$$" \
            localhost/pg_ingest-standin/postgres:15-bookworm \
            localhost/pg_ingest-standin/postgres-exporter:debian >>"$work/standins.log" 2>&1 &&
            mv "$cached.tmp.$$" "$cached" || rm -f "$cached.tmp.$$"
    fi
    podman tag localhost/pg_ingest-standin/postgres:15-bookworm "$OFFICIAL_POSTGRES" &&
        podman tag localhost/pg_ingest-standin/postgres-exporter:debian "$OFFICIAL_EXPORTER"
}
start=$SECONDS
if standins_ready; then
    pass "stand-in images postgres:15-bookworm and postgres-exporter:v0.15.0 from Debian's packages, $((SECONDS - start)) s"
else
    fail standins "$(tail -n 20 "$work/standins.log")"
    abort_after standins
fi

# psql in the database container; -At: bare values, '|' between columns.
sql() { podman exec "$DB" psql -X -At -v ON_ERROR_STOP=1 -U postgres -d shop -c "$1"; }

# Waits until COMMAND succeeds, every 2 s, at most DEADLINE seconds.
wait_for() {
    local end=$((SECONDS + DEADLINE))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -ge $end ] && return 1
        sleep 2
    done
}


# The generator's own account of what it published, from its log: "/data/NAME EVENTS" per line.
generator_manifest() {
    podman logs "${PROJECT}_generator_1" 2>/dev/null |
        awk '$1 ~ /^\/data\/user_events_.*\.csv$/ && $3 == "events" {sub("^/data/", "", $1); print $1, $2}'
}
done_files() { sql "SELECT count(*) FROM ingest.files WHERE source = 'events' AND status = 'done'"; }
at_least_done() { [ "$(done_files)" -ge "$1" ]; }
db_healthy() { podman healthcheck run "$DB"; }
metrics_served() { in_netns curl -fsS http://127.0.0.1:9187/metrics | grep -q '^pg_ingest_rows_loaded{'; }

# Stops the generator after at least N files are done, waits until the source is idle and
# appends the generator's manifest to FILE.
stop_generator_after() {
    local files=$1 manifest=$2
    wait_for at_least_done "$files" || { echo "fewer than $files files done"; return 1; }
    compose stop generator >>"$work/compose.log" 2>&1 || { echo "generator did not stop"; return 1; }
    generator_manifest >>"$manifest"
    [ "$(sql "SELECT ingest.wait_idle('events', '${DEADLINE}s')")" = t ] ||
        { echo "the source never became idle"; return 1; }
}

# Every file of MANIFEST is done exactly once with its events, nothing else is in the catalog, and
# the table has each event once: count = count distinct = the manifest's events.
files_loaded_once() {
    local manifest=$1 expected actual events
    expected=$(sort "$manifest" | awk '{print $1 "|done|" $2 "|0"}')
    actual=$(sql "SELECT file_name, status, rows_loaded, rows_rejected FROM ingest.files
                  WHERE source = 'events' ORDER BY file_name")
    events=$(awk '{s += $2} END {print s + 0}' "$manifest")
    [ "$(wc -l <"$manifest")" -ge 2 ] || { echo "fewer than 2 files in the manifest"; return 1; }
    [ "$actual" = "$expected" ] || { diff <(echo "$expected") <(echo "$actual"); return 1; }
    actual=$(sql "SELECT count(*), count(DISTINCT event_id) FROM user_events")
    [ "$actual" = "$events|$events" ] ||
        { echo "user_events count|distinct $actual, manifest $events events"; return 1; }
    echo "$(wc -l <"$manifest") files, $events events"
}

# The exporter's pg_ingest_rows_loaded and pg_ingest_files_done for the source are what
# ingest.metrics counts, and that is what the files finished since the server started hold.
metrics_right() {
    local served rows files expected
    in_netns curl -fsS http://127.0.0.1:9187/metrics >"$work/metrics.txt" || { echo "no /metrics"; return 1; }
    rows=$(awk '/^pg_ingest_rows_loaded\{/ && /source="events"/ {printf "%.0f", $2}' "$work/metrics.txt")
    files=$(awk '/^pg_ingest_files_done\{/ && /source="events"/ {printf "%.0f", $2}' "$work/metrics.txt")
    served="$rows|$files"
    expected=$(sql "SELECT rows_loaded, files_done FROM ingest.metrics WHERE source = 'events'")
    [ "$served" = "$expected" ] || { echo "exporter rows|files $served, ingest.metrics $expected"; return 1; }
    expected=$(sql "SELECT sum(rows_loaded), count(*) FROM ingest.files WHERE source = 'events'
                    AND finished_at >= pg_postmaster_start_time()")
    [ "$served" = "$expected" ] ||
        { echo "exporter rows|files $served, files finished since the start $expected"; return 1; }
    [ "$files" -ge 1 ] || { echo "no file loaded since the server started"; return 1; }
    echo "pg_ingest_rows_loaded $rows, pg_ingest_files_done $files"
}

# CHECK NAME DESCRIPTION FUNCTION ARGS...: runs it, its output the detail of a failure; with
# --needed, a failure ends the run (the checks after it need it).
check() {
    local needed=no
    [ "$1" = --needed ] && { needed=yes; shift; }
    local name=$1 description=$2 out start=$SECONDS
    shift 2
    if out=$("$@" 2>&1); then
        pass "$description${out:+ ($(tail -n 1 <<<"$out"))}, $((SECONDS - start)) s"
    else
        fail "$description" "$(tail -n 30 <<<"$out")"
        [ $needed = yes ] && abort_after "$name"
    fi
}

image_builds() {
    # podman-compose 1.0.3 exits 0 even where the build failed: the image must be there.
    compose_build db >"$work/build.log" 2>&1 && podman image exists localhost/pg_ingest:demo ||
        { tail -n 30 "$work/build.log"; return 1; }
    # The image ships eventgen (and the extension, which the checks below load with).
    podman run --rm localhost/pg_ingest:demo eventgen --print-ddl | grep -q 'CREATE TABLE.*user_events'
}
check --needed image "docker/Dockerfile builds pg_ingest:demo (podman-compose build)" image_builds

stack_up() {
    compose up -d db generator exporter >>"$work/compose.log" 2>&1 ||
        { tail -n 30 "$work/compose.log"; return 1; }
    wait_for db_healthy || { podman logs "$DB" | tail -n 30; return 1; }
    local status
    status=$(podman inspect -f '{{.State.Health.Status}}' "$DB")
    [ "$status" = healthy ] || { echo "health status $status"; return 1; }
}
check --needed healthy "the database's healthcheck turns healthy (up -d db generator exporter)" stack_up

check --needed files_once "the generator's files land exactly once (count = count distinct = events)" \
    eval 'stop_generator_after 2 "$work/manifest" && files_loaded_once "$work/manifest"'

status_clean() {
    local status
    status=$(sql "SELECT state, pid IS NOT NULL, last_error IS NULL, files_failed, rows_rejected
                  FROM ingest.status WHERE source = 'events'")
    [[ $status =~ ^(idle|loading)\|t\|t\|0\|0$ ]] || { echo "ingest.status: $status"; return 1; }
    echo "$status"
}
check status "ingest.status: idle or loading, worker up, no error" status_clean

check metrics "the exporter serves pg_ingest_rows_loaded with the right value" \
    eval 'wait_for metrics_served && metrics_right'

restart_resumes() {
    local before
    before=$(sql "SELECT file_id, file_name, rows_loaded, finished_at FROM ingest.files ORDER BY file_id")
    compose down >>"$work/compose.log" 2>&1 || { echo "down failed"; return 1; }
    podman volume exists "${PROJECT}_pgdata" && podman volume exists "${PROJECT}_data" ||
        { echo "down removed the volumes"; return 1; }
    stack_up || return 1
    podman logs "$DB" >"$work/db2.log" 2>&1
    grep -q 'Skipping initialization' "$work/db2.log" && ! grep -q 'init process complete' "$work/db2.log" ||
        { echo "initdb ran again"; return 1; }
    stop_generator_after "$(($(wc -l <"$work/manifest") + 1))" "$work/manifest" || return 1
    # The files done before are still the same rows, loaded once, and the new ones joined them.
    [ "$(sql "SELECT file_id, file_name, rows_loaded, finished_at FROM ingest.files
              ORDER BY file_id LIMIT $(wc -l <<<"$before")")" = "$before" ] ||
        { echo "the catalog's files before the restart changed"; return 1; }
    files_loaded_once "$work/manifest"
}
check restart "down, then up with the volumes kept: no initdb, no file loaded twice, new files load" \
    restart_resumes
check metrics_restart "after the restart the exporter counts what this server loaded" \
    eval 'wait_for metrics_served && metrics_right'

# Nothing left in the storage: what a user's `down -v` and image removal leave is nothing.
nothing_left() {
    remove_all
    local listed
    listed="containers: $(podman ps -aq | wc -l), images: $(podman images -q | wc -l)"
    listed+=", volumes: $(podman volume ls -q | wc -l)"
    listed+=", networks: $(in_netns podman network ls --format '{{.Name}}' | tr '\n' ' ')"
    [ "$listed" = "containers: 0, images: 0, volumes: 0, networks: podman " ] ||
        { echo "$listed"; return 1; }
    remove_storage
    [ ! -e "$work" ] && ! grep -q " $work/" /proc/mounts || { echo "$work is still there"; return 1; }
    [ ! -e "/run/netns/$NETNS" ] || { echo "network namespace $NETNS is still there"; return 1; }
    echo "$listed(the built-in default); $work, its mounts and $NETNS removed"
}
check cleanup "down -v and removal leave no container, image, volume or network" nothing_left

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
