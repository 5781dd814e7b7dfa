#!/usr/bin/env bash
# Installs what pg_ingest needs on Debian 12 (only what is missing), then builds the pure C++
# parts into build/ and installs the extension into PostgreSQL 15.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(postgresql-15 postgresql-server-dev-15 libcsv-dev libboost-dev zlib1g-dev libzstd-dev
    cmake g++ make libgtest-dev libcli11-dev libfmt-dev python3 python3-pytest python3-psycopg2
    python3-yaml)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
        missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
make -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG" >/dev/null
make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
echo "built build/eventgen, build/unit_tests and installed pg_ingest into $("$PG_CONFIG" --pkglibdir)"
