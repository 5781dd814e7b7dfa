# The Debian packages pg_ingest is built and tested with, for a PostgreSQL major: sourced by
# setup.sh (on this machine) and chroot.sh (into a Debian chroot), so both install the same.
pg_ingest_packages() {
    echo "postgresql-$1 postgresql-server-dev-$1 libcsv-dev zlib1g-dev libzstd-dev libsimdjson-dev" \
        "cmake g++ make libgtest-dev libcli11-dev libfmt-dev python3 python3-pytest" \
        "python3-psycopg2 python3-yaml"
}

# The fuzzing job's (tests/fuzz/run.sh, on the native Debian 12 only): Debian's clang 14 and
# its libFuzzer runtime.
pg_ingest_fuzz_packages() {
    echo "clang-14 libclang-rt-14-dev"
}

# Installs those of the given packages that are missing (apt-get, as root).
install_missing_packages() {
    local package missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}"
    apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
}

# The container job's (tests/docker/run.sh, on the native Debian 12 only): podman as root with
# runc, netavark (and iptables, which it drives) for the compose network with aardvark-dns for
# names between services, podman-compose, and debootstrap for the base image (scripts/chroot.sh).
pg_ingest_container_packages() {
    echo "podman runc podman-compose netavark aardvark-dns iptables debootstrap curl"
}
