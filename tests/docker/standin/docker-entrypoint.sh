#!/usr/bin/env bash
# The stand-in postgres image's entrypoint (postgres.Dockerfile): what the official image's
# docker-entrypoint.sh documents, for the parts docker/docker-compose.yml and docker/Dockerfile
# use, in the official order and with the official messages:
# - arguments starting with "-" are postgres's; as root, it makes PGDATA (mode 700) and
#   /var/run/postgresql postgres's and runs itself again as postgres;
# - with no PG_VERSION in PGDATA: initdb with POSTGRES_USER and POSTGRES_PASSWORD (required),
#   "host all all all scram-sha-256" in pg_hba.conf, a temporary server on the socket only with
#   the command's "-c ..." arguments, CREATE DATABASE POSTGRES_DB (unless "postgres"), then each
#   /docker-entrypoint-initdb.d/ file in name order: *.sh run if executable and sourced if not,
#   *.sql through psql; then it stops the temporary server;
# - with a database in PGDATA it skips all that and says so;
# - then it execs the command (postgres with its arguments).
set -Eeo pipefail

if [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA"
    chmod 00700 "$PGDATA"
    find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
    mkdir -p /var/run/postgresql
    chown postgres:postgres /var/run/postgresql
    chmod 3777 /var/run/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

# As the official entrypoint exports them to the init scripts.
export POSTGRES_USER=${POSTGRES_USER:-postgres}
export POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}

psql_as_superuser() {
    PGPASSWORD=${PGPASSWORD:-$POSTGRES_PASSWORD} psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" \
        --no-password --no-psqlrc "$@"
}

temp_server_start() {
    [ "$1" = postgres ] && shift
    set -- "$@" -c listen_addresses='' -p "${PGPORT:-5432}"
    PGUSER=${PGUSER:-$POSTGRES_USER} pg_ctl -D "$PGDATA" -o "$(printf '%q ' "$@")" -w start
}

run_init_files() {
    local f
    for f in /docker-entrypoint-initdb.d/*; do
        case $f in
        *.sh)
            if [ -x "$f" ]; then
                echo "$0: running $f"
                "$f"
            else
                echo "$0: sourcing $f"
                # shellcheck disable=SC1090
                . "$f"
            fi
            ;;
        *.sql)
            echo "$0: running $f"
            psql_as_superuser --dbname "$POSTGRES_DB" -f "$f"
            echo
            ;;
        *) echo "$0: ignoring $f" ;;
        esac
    done
}

if [ "$1" = postgres ]; then
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        if [ -z "${POSTGRES_PASSWORD:-}" ]; then
            echo "Error: Database is uninitialized and superuser password is not specified." >&2
            exit 1
        fi
        initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
            -D "$PGDATA"
        printf '\nhost all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
        temp_server_start "$@"
        if [ "$POSTGRES_DB" != postgres ]; then
            psql_as_superuser --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db" ;'
        fi
        run_init_files
        pg_ctl -D "$PGDATA" -m fast -w stop
        echo
        echo 'PostgreSQL init process complete; ready for start up.'
        echo
    else
        echo
        echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
        echo
    fi
fi

exec "$@"
