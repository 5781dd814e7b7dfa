#!/usr/bin/env bash
# Throwaway PostgreSQL clusters for tests and demos, of the major of PG_CONFIG (default: Debian
# 12's own 15): unix socket only, in a directory of their own, run as the postgres OS user (the
# server refuses root), pg_ingest preloaded.
#   cluster.sh init DIR [extra postgresql.conf lines...]
#   cluster.sh start DIR | stop DIR [fast|immediate] | destroy DIR
#   cluster.sh env DIR     prints PGHOST/PGPORT/PGUSER exports
# For the sanitizer job (scripts/sanitize.sh): PG_INGEST_SERVER_ENV, words VAR=value, is the
# server's environment (LD_PRELOAD, ASAN_OPTIONS); with PG_INGEST_KEEP_LOGS, a directory, destroy
# first copies the server's log there (sanitizer reports go to the server's stderr).
set -euo pipefail
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/${PG_MAJOR:-15}/bin/pg_config}
PGBIN=${PGBIN:-$("$PG_CONFIG" --bindir)}
cmd=$1 dir=$2
shift 2
as_postgres() { runuser -u postgres -- "$@"; }

case $cmd in
init)
    mkdir -p "$dir"
    chown postgres: "$dir"
    chmod 755 "$dir"
    as_postgres "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 \
        --locale=C.UTF-8 >"$dir/initdb.log"
    {
        echo "shared_preload_libraries = 'pg_ingest'"
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$dir'"
        echo "port = 5432"
        echo "max_worker_processes = 32"
        echo "fsync = off"
        echo "log_line_prefix = '%m [%p] %b '"
        for line in "$@"; do echo "$line"; done
    } >>"$dir/data/postgresql.conf"
    ;;
start)
    # shellcheck disable=SC2086 # words VAR=value
    as_postgres env ${PG_INGEST_SERVER_ENV:-} "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
        -w -t 300 start >/dev/null
    ;;
stop)
    as_postgres "$PGBIN/pg_ctl" -D "$dir/data" -m "${1:-fast}" -w -t 60 stop >/dev/null
    ;;
destroy)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_postgres "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [ -n "${PG_INGEST_KEEP_LOGS:-}" ] && [ -f "$dir/server.log" ]; then
        cp "$dir/server.log" "$(mktemp "$PG_INGEST_KEEP_LOGS/server.XXXXXX.log")"
    fi
    rm -rf "$dir"
    ;;
env)
    echo "export PGHOST='$dir' PGPORT=5432 PGUSER=postgres PGDATABASE=postgres"
    ;;
*)
    echo "usage: $0 init|start|stop|destroy|env DIR" >&2
    exit 2
    ;;
esac
