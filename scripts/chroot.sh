#!/usr/bin/env bash
# Debian chroots that bring the PostgreSQL majors Debian 12 does not package, each with its own
# toolchain: trixie (Debian 13) has postgresql-17, sid has postgresql-18. They live under
# /var/cache/pg_ingest/chroot-SUITE between runs; a missing one is made with debootstrap from the
# host's own Debian mirror, and missing packages are installed into it. Run as root.
#   chroot.sh suite MAJOR                    prints the suite that packages MAJOR (or fails)
#   chroot.sh ensure SUITE MAJOR             creates the chroot if missing, installs what is missing
#   chroot.sh run SUITE [--bind DIR]... -- COMMAND...
#                                            runs COMMAND inside, with /proc, /dev, /dev/shm and
#                                            each DIR (at the same path) mounted, unmounted after
set -euo pipefail
CACHE=${PG_INGEST_CHROOTS:-/var/cache/pg_ingest}
source "$(dirname "$0")/packages.sh"

suite_for_major() {
    case $1 in
    17) echo trixie ;;
    18) echo sid ;;
    *)
        echo "no Debian suite reachable here packages PostgreSQL $1 (17: trixie, 18: sid)" >&2
        return 1
        ;;
    esac
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

create_chroot() {
    local suite=$1 root=$2
    echo "creating the $suite chroot in $root (debootstrap, a few minutes)"
    # A fresh Debian 12 has no debootstrap.
    if ! command -v debootstrap >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            debootstrap >/dev/null
    fi
    rm -rf "$root.tmp"
    debootstrap --variant=minbase "$suite" "$root.tmp" "$(host_mirror)" >"$CACHE/$suite.log" 2>&1 ||
        {
            tail -n 20 "$CACHE/$suite.log" >&2
            return 1
        }
    mv "$root.tmp" "$root"
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

ensure() {
    local suite=$1 major=$2 root="$CACHE/chroot-$1"
    mkdir -p "$CACHE"
    [ -x "$root/usr/bin/apt-get" ] || create_chroot "$suite" "$root"
    prepare_chroot "$root"
    local missing p
    missing=$(for p in $(pg_ingest_packages "$major"); do
        chroot "$root" dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q "install ok installed" || echo "$p"
    done)
    [ -z "$missing" ] && return 0
    echo "installing into the $suite chroot:" $missing
    trap unmount_all EXIT
    mount_into "$root"
    chroot "$root" apt-get -qq update
    # shellcheck disable=SC2086
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends $missing >/dev/null
    unmount_all
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
    trap unmount_all EXIT
    mount_into "$root" "${binds[@]}"
    local status=0
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        "$@" || status=$?
    unmount_all
    return "$status"
}

cmd=${1:-}
shift || true
case $cmd in
suite) suite_for_major "$@" ;;
ensure) ensure "$@" ;;
run) run "$@" ;;
*)
    echo "usage: $0 suite MAJOR | ensure SUITE MAJOR | run SUITE [--bind DIR]... -- COMMAND..." >&2
    exit 2
    ;;
esac
