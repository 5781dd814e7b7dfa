#!/usr/bin/env bash
# Installs what pg_ingest needs on Debian (only what is missing), then builds the pure C++
# parts into build/ and installs the extension into the PostgreSQL of PG_CONFIG. Without
# PG_CONFIG: PostgreSQL PG_MAJOR from Debian's packages, by default 15 (Debian 12's own).
# ERROR_ON_WARNING=yes (CI) makes every compiler warning an error.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${PG_CONFIG:-}" ] && [ -x "$PG_CONFIG" ]; then
    PG_MAJOR=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
fi
PG_MAJOR=${PG_MAJOR:-15}
ERROR_ON_WARNING=${ERROR_ON_WARNING:-no}

source scripts/packages.sh
read -ra packages <<<"$(pg_ingest_packages "$PG_MAJOR")"
install_missing_packages "${packages[@]}"

export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/$PG_MAJOR/bin/pg_config}
cmake_werror=OFF
[ "$ERROR_ON_WARNING" = yes ] && cmake_werror=ON
# Warnings go to the terminal (stderr); the progress output does not.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DERROR_ON_WARNING=$cmake_werror >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
make -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG" ERROR_ON_WARNING="$ERROR_ON_WARNING" >/dev/null
make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
echo "built build/eventgen, build/unit_tests and installed pg_ingest into $("$PG_CONFIG" --pkglibdir)"
