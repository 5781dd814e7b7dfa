# The Debian packages pg_ingest is built and tested with, for a PostgreSQL major: sourced by
# setup.sh (on this machine) and chroot.sh (into a Debian chroot), so both install the same.
pg_ingest_packages() {
    echo "postgresql-$1 postgresql-server-dev-$1 libcsv-dev libboost-dev zlib1g-dev libzstd-dev" \
        "cmake g++ make libgtest-dev libcli11-dev libfmt-dev python3 python3-pytest" \
        "python3-psycopg2 python3-yaml"
}
