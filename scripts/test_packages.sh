#!/usr/bin/env bash
# The Debian packages, tested as a user installs them. For PostgreSQL 15 (Debian 12, natively)
# and 17 (trixie, in a build chroot): builds them from `make dist`'s tarball with
# dpkg-buildpackage (dh --with pgxs; the unit tests and pg_regress run in the build), checks them
# (lintian errors, hardening-check of the .so and the generator, no build path in the .so), then
# installs them into a fresh minbase chroot of the suite with nothing but postgresql-N and the two
# packages (no compiler, no -dev) and runs debian/tests/load-eventgen there: a cluster, CREATE
# EXTENSION, eventgen files loaded exactly once through a started source, exact counts, and
# ALTER EXTENSION pg_ingest UPDATE from 0.6 with the packaged scripts.
# No earlier version was ever packaged (0.7 is the first), so no update from a previous package
# is run; when one exists, install it first and upgrade to the new one here.
# Ends with "N passed, M failed"; the status is 0 only if M = 0. Run as root.
# Cached under /var/cache/pg_ingest/packages (PG_INGEST_CHROOTS): the build chroot of each suite
# and the .debs apt downloads into the fresh chroots; the minbase tarballs are chroot.sh's.
set -uo pipefail
cd "$(dirname "$0")/.." || exit
CACHE=${PG_INGEST_CHROOTS:-/var/cache/pg_ingest}
PACKAGES_CACHE=$CACHE/packages
# MAJOR:SUITE; the first is built on this machine (Debian 12), the others in a chroot.
TARGETS=${PG_INGEST_PACKAGE_TARGETS:-"15:bookworm 17:trixie"}
source scripts/packages.sh
# debian/control.in's Build-Depends (debhelper-compat is debhelper's), and a compiler.
BUILD_PACKAGES="build-essential $(sed -n '/^Build-Depends:/,/^[A-Z]/s/^ \([a-z0-9.+-]*\).*/\1/p' \
    debian/control.in | sed 's/^debhelper-compat$/debhelper/')"
# lintian, hardening-check (devscripts) and strings (binutils), on this machine.
CHECK_PACKAGES="lintian devscripts binutils"

work=$(mktemp -d /tmp/pg_ingest_packages.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
mkdir -p "$PACKAGES_CACHE"
passed=0
failed=0
result() { # result WHAT STATUS
    if [ "$2" -eq 0 ]; then
        echo "ok - $1"
        passed=$((passed + 1))
    else
        echo "not ok - $1"
        failed=$((failed + 1))
    fi
}
# Runs a command in $PACKAGES_CACHE/chroot-NAME through chroot.sh (its mounts), with $work bound.
in_chroot() {
    local name=$1
    shift
    PG_INGEST_CHROOTS=$PACKAGES_CACHE bash scripts/chroot.sh run "$name" --bind "$work" -- "$@"
}
# Removes a chroot of ours, never while anything is mounted inside it (a run that was killed may
# have left its binds: rm -rf would go through them into /dev or the host's directories).
remove_root() {
    if grep -qF " $1/" /proc/mounts; then
        echo "$1 still has mounts inside (see /proc/mounts): not removed" >&2
        return 1
    fi
    rm -rf "$1"
}
# A fresh copy of the cached minbase SUITE as $PACKAGES_CACHE/chroot-NAME, whose apt needs no
# Valid-Until (a snapshot mirror), starts no service at install and creates no cluster.
fresh_root() {
    local suite=$1 name=$2 tarball root=$PACKAGES_CACHE/chroot-$2
    tarball=$(bash scripts/chroot.sh minbase "$suite") || return 1
    remove_root "$root" || return 1
    mkdir -p "$root"
    tar -C "$root" -xf "$tarball"
    # A user's Debian has its suite's security and point-release updates; the server a package
    # is built against may come from them (Debian 12's postgresql-15 15.20 does).
    local mirror
    mirror=$(sed -n 's/^deb \([^ ]*\) .*/\1/p' "$root/etc/apt/sources.list" | head -n 1)
    printf 'deb %s %s-updates main\ndeb %s-security %s-security main\n' \
        "$mirror" "$suite" "${mirror%/}" "$suite" >>"$root/etc/apt/sources.list"
    echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/99pg_ingest"
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    mkdir -p "$root/etc/postgresql-common"
    echo "create_main_cluster = false" >"$root/etc/postgresql-common/createcluster.conf"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
}
# apt-get install inside a chroot, its package lists and downloads kept in the cache of SUITE.
chroot_install() {
    local name=$1 apt=$PACKAGES_CACHE/apt-$2
    shift 2
    mkdir -p "$apt/archives/partial" "$apt/lists/partial"
    local options="-o Dir::Cache::archives=$apt/archives -o Dir::State::Lists=$apt/lists"
    PG_INGEST_CHROOTS=$PACKAGES_CACHE bash scripts/chroot.sh run "$name" --bind "$work" \
        --bind "$apt" -- sh -c "apt-get -qq $options update && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends $options $*" \
        >"$work/apt-$name.log" 2>&1 || { tail -n 20 "$work/apt-$name.log"; return 1; }
}
# The build chroot of SUITE: minbase and the build dependencies, made once and kept.
ensure_build_root() {
    local suite=$1
    local done=$PACKAGES_CACHE/chroot-build-$suite/.pg_ingest-build-depends
    [ "$(cat "$done" 2>/dev/null)" = "$BUILD_PACKAGES" ] && return 0
    echo "making the $suite build chroot (once)"
    # shellcheck disable=SC2086
    fresh_root "$suite" "build-$suite" &&
        chroot_install "build-$suite" "$suite" $BUILD_PACKAGES &&
        echo "$BUILD_PACKAGES" >"$done"
}

# Builds the packages of MAJOR from the tarball in $work/MAJOR; the .debs land in $work/MAJOR.
build() {
    local major=$1 suite=$2 native=$3 dir=$work/$1 commands
    commands="cd $dir/pg_ingest-$version && pg_buildext updatecontrol &&
        DEB_BUILD_OPTIONS=parallel=$(nproc) dpkg-buildpackage -us -uc -b"
    mkdir -p "$dir"
    tar -C "$dir" -xzf "$work/pg_ingest-$version.tar.gz"
    if [ "$native" = yes ]; then
        bash -c "$commands" >"$dir/build.log" 2>&1
    else
        ensure_build_root "$suite" && in_chroot "build-$suite" bash -c "$commands" \
            >"$dir/build.log" 2>&1
    fi || { tail -n 40 "$dir/build.log"; return 1; }
    grep -E "^ok [0-9]+|^test .*\.\.\. ok|tests passed|Tests passed" "$dir/build.log" | tail -n 3
}

# lintian, hardening-check and the build path, on this machine's tools (any suite's .debs).
check() {
    local major=$1 suite=$2 native=$3 dir=$work/$1
    lintian --fail-on error "$dir"/*.changes >"$dir/lintian.log" 2>&1
    result "$major: lintian: no error" $?
    grep -E '^E:' "$dir/lintian.log"
    mkdir -p "$dir/x"
    for deb in "$dir"/*.deb; do dpkg-deb -x "$deb" "$dir/x"; done
    local so=$dir/x/usr/lib/postgresql/$major/lib/pg_ingest.so gen=$dir/x/usr/bin/pg-ingest-eventgen
    # A binary has the control-flow protection note only when every object linked into it has:
    # Debian 12's crti.o (glibc 2.36) has none, so nothing built there can (postgres itself
    # neither); that check is left out where the build's crti.o lacks it, and said so.
    local options=() crti=/usr/lib/x86_64-linux-gnu/crti.o
    [ "$native" = yes ] || crti=$PACKAGES_CACHE/chroot-build-$suite$crti
    if [ -f "$crti" ] && ! readelf -n "$crti" | grep -q 'x86 feature: IBT'; then
        options=(--nocfprotection)
        echo "control-flow protection not checked: the build's crti.o has no IBT note"
    fi
    hardening-check "${options[@]}" "$so" "$gen" >"$dir/hardening.log" 2>&1
    result "$major: hardening-check ${options[*]} of pg_ingest.so and pg-ingest-eventgen" $?
    grep -iE 'no,|unknown' "$dir/hardening.log"
    ! strings "$so" "$gen" | grep -F "$dir"
    result "$major: no build path in pg_ingest.so and pg-ingest-eventgen" $?
}

# A fresh minbase SUITE, postgresql-MAJOR and the packages only, then debian/tests/load-eventgen.
install_and_load() {
    local major=$1 suite=$2 dir=$work/$1 name=fresh-$2
    if ! fresh_root "$suite" "$name" || ! chroot_install "$name" "$suite" "postgresql-$major" \
        "$dir"/postgresql-"$major"-pg-ingest_*.deb "$dir"/pg-ingest-eventgen_*.deb; then
        result "$major: installed into a fresh minbase $suite" 1
        return
    fi
    result "$major: installed into a fresh minbase $suite" 0
    # postgresql-common-dev (pg_buildext and friends, no headers, no compiler) is a dependency of
    # trixie's postgresql-common itself, so a user's postgresql-17 brings it too.
    # shellcheck disable=SC2016
    ! chroot "$PACKAGES_CACHE/chroot-$name" dpkg-query -W -f='${Package}\n' |
        grep -vx postgresql-common-dev | grep -E -- '-dev$|^(gcc|g\+\+|cpp|clang)(-[0-9]+)?$'
    result "$major: no compiler and no -dev package installed" $?
    local tests=$dir/pg_ingest-$version/debian/tests
    in_chroot "$name" "$tests/load-eventgen" >"$dir/load.log" 2>&1
    cat "$dir/load.log"
    passed=$((passed + $(grep -c '^ok - ' "$dir/load.log")))
    failed=$((failed + $(grep -c '^not ok - ' "$dir/load.log")))
    grep -q '^ok - ' "$dir/load.log" || result "$major: load-eventgen ran" 1
    in_chroot "$name" "$tests/update" >"$dir/update.log" 2>&1
    cat "$dir/update.log"
    result "$major: ALTER EXTENSION pg_ingest UPDATE from each earlier version (packaged scripts)" $?
    remove_root "$PACKAGES_CACHE/chroot-$name"
}

# shellcheck disable=SC2086
install_missing_packages $BUILD_PACKAGES $CHECK_PACKAGES || result "build dependencies installed" 1
version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" pg_ingest.control)
bash scripts/check_versions.sh >/dev/null
result "versions agree (scripts/check_versions.sh)" $?
make -s -C "$work" -f "$PWD/Makefile" dist PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config >/dev/null
result "make dist: pg_ingest-$version.tar.gz" $?

native=yes
for target in $TARGETS; do
    major=${target%%:*} suite=${target#*:}
    echo "== PostgreSQL $major ($suite)"
    if build "$major" "$suite" "$native"; then
        result "$major: dpkg-buildpackage -b (dh --with pgxs)" 0
        check "$major" "$suite" "$native"
        install_and_load "$major" "$suite"
    else
        result "$major: dpkg-buildpackage -b (dh --with pgxs)" 1
    fi
    native=no
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
