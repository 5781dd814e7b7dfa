#!/usr/bin/env bash
# Builds eventgen (CMake) and the extension (PGXS) and installs them: the Dockerfile's build stage
# runs this, and so does CI (tests/integration/test_deployment.py), so the image is built the way
# the tests build.
#   docker/build.sh [DESTDIR]
# Without DESTDIR it installs into the PostgreSQL of PG_CONFIG and eventgen into BINDIR. With it,
# the same files are staged under DESTDIR at those paths and nothing else is written there:
# pg_ingest.so, pg_ingest.control, pg_ingest--*.sql and eventgen, the tree the image ships.
set -euo pipefail
# The image's build stage sets PG_MAJOR; 15 is Debian 12's own.
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/${PG_MAJOR:-15}/bin/pg_config}
BINDIR=${BINDIR:-/usr/local/bin}
# make runs in the repository root, so a relative DESTDIR must be resolved before moving there.
destdir=${1:+$(realpath -m "$1")}
cd "$(dirname "$0")/.."

cmake -S . -B build >/dev/null
cmake --build build --target eventgen -j"$(nproc)" >/dev/null
make -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG" >/dev/null
make -s install PG_CONFIG="$PG_CONFIG" DESTDIR="$destdir" >/dev/null
install -D -m 755 build/eventgen "$destdir$BINDIR/eventgen"
echo "installed pg_ingest for $("$PG_CONFIG" --version) and eventgen under ${destdir:-/}"
