#!/usr/bin/env bash
# Debian chroots that bring the PostgreSQL majors Debian 12 does not package, each with its own
# toolchain. A major comes from the first suite whose Packages index has postgresql-server-dev-N,
# in the order stable, testing, unstable, experimental, oldstable (read with apt from the host's
# own Debian mirror, never from a fixed table, so a suite that moves on moves the major with it).
# A major from experimental is installed over sid, with an apt pin on exactly its packages and
# libpq. Chroots are named by the suite's codename (experimental: "experimental"), live under
# /var/cache/pg_ingest/chroot-SUITE between runs, and are shared by the majors that come from the
# same suite; a missing one is made with debootstrap, missing packages are installed into it.
# Run as root.
#   chroot.sh suite MAJOR...                 prints the suite that packages each MAJOR, one a line
#                                            ("none" and status 1 where none does), and on stderr
#                                            the suite, codename and version of each
#   chroot.sh ensure SUITE MAJOR             creates the chroot if missing, installs what is missing
#   chroot.sh origin SUITE MAJOR             prints "SUITE VERSION" of MAJOR's installed server
#   chroot.sh minbase SUITE                  prints the path of a tarball of a pristine minbase
#                                            SUITE (debootstrap, made once and cached), for a clean
#                                            system to install packages into or a container image
#   chroot.sh run SUITE [--bind DIR]... -- COMMAND...
#                                            runs COMMAND inside, with /proc, /dev, /dev/shm and
#                                            each DIR (at the same path) mounted, unmounted after;
#                                            one at a time per chroot (ensure too): each mounts a
#                                            /dev/shm of its own over the chroot's, and the first to
#                                            end would take the servers' dynamic shared memory of
#                                            the others with it, so each waits for an exclusive
#                                            lock on the chroot (flock on CACHE/chroot-SUITE.lock)
set -euo pipefail
CACHE=${PG_INGEST_CHROOTS:-/var/cache/pg_ingest}
source "$(dirname "$0")/packages.sh"

# stable first (released), then the next release, then unstable and experimental (pre-releases);
# oldstable last, for a major the newer suites have dropped.
SUITE_PREFERENCE="stable testing unstable experimental oldstable"
# Experimental is not a whole distribution: it is installed over unstable.
EXPERIMENTAL_BASE=sid

# apt with its own sources and state under $CACHE/suites: the host's apt configuration and
# package lists stay as they are. Valid-Until is ignored as in the chroots (a snapshot mirror).
suites_apt() {
    local tool=$1 dir="$CACHE/suites"
    shift
    "$tool" -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" \
        -o Dir::State::status=/dev/null -o Acquire::Check-Valid-Until=false \
        -o APT::Sandbox::User=root "$@"
}

# Fetches the Packages indexes of every suite in SUITE_PREFERENCE (only what changed since).
update_suite_indexes() {
    local dir="$CACHE/suites" mirror suite
    mirror=$(host_mirror)
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
    for suite in $SUITE_PREFERENCE; do echo "deb $mirror $suite main"; done >"$dir/sources.list"
    suites_apt apt-get -qq update >"$dir/update.log" 2>&1 || {
        cat "$dir/update.log" >&2
        return 1
    }
}

# The codename of a suite alias (stable: trixie, ...), from the Release file apt fetched.
codename_of() {
    local release
    release=$(ls "$CACHE/suites/lists/"*"_dists_$1_InRelease")
    sed -n 's/^Codename: //p' "$release"
}

# One line per major: the suite it comes from, or "none" (the reason on stderr, and the status
# is 1); on stderr also the suite, codename and version of each.
suites_for_majors() {
    local major madison suite version status=0
    update_suite_indexes
    for major in "$@"; do
        madison=$(suites_apt apt-cache madison "postgresql-server-dev-$major" 2>/dev/null || true)
        for suite in $SUITE_PREFERENCE none; do
            [ "$suite" = none ] && break
            version=$(awk -F' *[|] *' -v suite="$suite" \
                '$3 ~ (" " suite "/main ") {print $2; exit}' <<<"$madison")
            [ -n "$version" ] && break
        done
        case $suite in
        none)
            echo "no Debian suite reachable here packages PostgreSQL $major" \
                "(no postgresql-server-dev-$major in $SUITE_PREFERENCE)" >&2
            echo none
            status=1
            ;;
        experimental)
            echo "PostgreSQL $major: experimental $version, pinned over $EXPERIMENTAL_BASE" >&2
            echo experimental
            ;;
        *)
            echo "PostgreSQL $major: $suite ($(codename_of "$suite")) $version" >&2
            codename_of "$suite"
            ;;
        esac
    done
    return "$status"
}

# The mirror the host's apt uses, so the chroot needs no host the machine is not configured with.
host_mirror() {
    local uri
    uri=$(grep -rhoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list \
        /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
        grep -oE 'https?://[^ ]+' | head -n 1)
    if [ -z "$uri" ]; then
        echo "no Debian mirror in /etc/apt/sources.list or sources.list.d: configure apt first" >&2
        return 1
    fi
    echo "$uri"
}

# Mounts what postgresql-common and the server need, plus the binds; unmounts them on exit.
# Each bind is made private at once: on a host whose / is shared (systemd), the tmpfs on the
# chroot's /dev/shm would otherwise propagate onto the host's own /dev/shm.
mounted=()
unmount_all() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}"
    done
    mounted=()
}
mount_into() {
    local root=$1
    shift
    mount -t proc proc "$root/proc"
    mounted+=("$root/proc")
    mount --bind /dev "$root/dev"
    mounted+=("$root/dev")
    mount --make-private "$root/dev"
    mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
    mounted+=("$root/dev/shm")
    local dir
    for dir in "$@"; do
        mkdir -p "$root$dir"
        mount --bind "$dir" "$root$dir"
        mounted+=("$root$dir")
        mount --make-private "$root$dir"
    done
}

# A minbase system of SUITE (a codename or alias; not experimental) in DIR.
bootstrap() {
    local suite=$1 dir=$2 log=$3
    # A fresh Debian 12 has no debootstrap.
    if ! command -v debootstrap >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            debootstrap >/dev/null
    fi
    rm -rf "$dir"
    # Every Debian suite bootstraps with the sid script; Debian 12's debootstrap has none named
    # after the releases that came after it (forky, ...).
    debootstrap --variant=minbase "$suite" "$dir" "$(host_mirror)" \
        /usr/share/debootstrap/scripts/sid >"$log" 2>&1 || {
        tail -n 20 "$log" >&2
        return 1
    }
}

create_chroot() {
    local suite=$1 root=$2
    echo "creating the $suite chroot in $root (debootstrap, a few minutes)"
    local base=$suite mirror
    [ "$suite" = experimental ] && base=$EXPERIMENTAL_BASE
    mirror=$(host_mirror)
    bootstrap "$base" "$root.tmp" "$CACHE/$suite.log"
    if [ "$suite" = experimental ]; then
        echo "deb $mirror experimental main" >"$root.tmp/etc/apt/sources.list.d/experimental.list"
    fi
    mv "$root.tmp" "$root"
}

# Made once under an exclusive lock, so that concurrent jobs share one bootstrap.
minbase() {
    local suite=$1 tarball="$CACHE/minbase-$1.tar"
    mkdir -p "$CACHE"
    (
        flock 9
        if [ ! -s "$tarball" ]; then
            echo "bootstrapping a minbase $suite (debootstrap, a minute or two)" >&2
            bootstrap "$suite" "$CACHE/minbase-$suite.tmp" "$CACHE/minbase-$suite.log"
            tar -C "$CACHE/minbase-$suite.tmp" -cf "$tarball.tmp" .
            rm -rf "$CACHE/minbase-$suite.tmp"
            mv "$tarball.tmp" "$tarball"
        fi
    ) 9>"$CACHE/minbase-$suite.lock"
    echo "$tarball"
}

# Experimental's packages are never chosen unless pinned: exactly the major's server, client and
# headers, and libpq (the server needs its own libpq; without it apt refuses).
pin_experimental_major() {
    local root=$1 major=$2
    cat >"$root/etc/apt/preferences.d/pg_ingest-postgresql-$major" <<PIN
Package: postgresql-$major postgresql-client-$major postgresql-server-dev-$major libpq-dev libpq5
Pin: release a=experimental
Pin-Priority: 500
PIN
}

# Inside: no service starts at install (policy-rc.d), installing postgresql-N creates no
# cluster of its own (the tests make theirs), and apt accepts a Release file past its
# Valid-Until date, as sid's in a snapshot mirror may be, so setup.sh's apt-get works inside.
prepare_chroot() {
    local root=$1
    echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/99pg_ingest"
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    mkdir -p "$root/etc/postgresql-common"
    echo "create_main_cluster = false" >"$root/etc/postgresql-common/createcluster.conf"
    cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
}

# Waits for the chroot of SUITE to be this process's alone (fd 9 holds the lock until exit;
# whatever runs inside gets no fd 9, so no server it leaves behind keeps the lock).
lock_chroot() {
    mkdir -p "$CACHE"
    exec 9>"$CACHE/chroot-$1.lock"
    flock 9
}

ensure() {
    local suite=$1 major=$2 root="$CACHE/chroot-$1"
    lock_chroot "$suite"
    [ -x "$root/usr/bin/apt-get" ] || create_chroot "$suite" "$root"
    prepare_chroot "$root"
    [ "$suite" = experimental ] && pin_experimental_major "$root" "$major"
    local missing p
    missing=$(for p in $(pg_ingest_packages "$major"); do
        chroot "$root" dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q "install ok installed" || echo "$p"
    done)
    [ -z "$missing" ] && return 0
    echo "installing into the $suite chroot:" $missing
    trap unmount_all EXIT
    mount_into "$root"
    chroot "$root" apt-get -qq update 9>&-
    # shellcheck disable=SC2086
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends $missing >/dev/null 9>&-
    unmount_all
}

# The suite and version of MAJOR's server as installed in the chroot.
origin() {
    local suite=$1 major=$2
    echo "$suite $(chroot "$CACHE/chroot-$suite" dpkg-query -W -f='${Version}' "postgresql-$major")"
}

run() {
    local suite=$1 root="$CACHE/chroot-$1" binds=()
    shift
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        [ "$1" = "--bind" ] || { echo "chroot.sh run: unknown option $1" >&2; return 2; }
        binds+=("$2")
        shift 2
    done
    shift
    if [ ! -x "$root/usr/bin/apt-get" ]; then
        echo "no $suite chroot in $root: run chroot.sh ensure $suite MAJOR" >&2
        return 1
    fi
    lock_chroot "$suite"
    trap unmount_all EXIT
    mount_into "$root" "${binds[@]}"
    local status=0
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        "$@" 9>&- || status=$?
    unmount_all
    return "$status"
}

cmd=${1:-}
shift || true
case $cmd in
suite) suites_for_majors "$@" ;;
ensure) ensure "$@" ;;
origin) origin "$@" ;;
run) run "$@" ;;
minbase) minbase "$@" ;;
*)
    echo "usage: $0 suite MAJOR... | ensure SUITE MAJOR | origin SUITE MAJOR |" \
        "minbase SUITE | run SUITE [--bind DIR]... -- COMMAND..." >&2
    exit 2
    ;;
esac
