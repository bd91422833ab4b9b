#!/bin/bash
# The part of the official postgres image's entrypoint that docker-compose.yml relies on.
set -euo pipefail
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
if [ "${1:-}" = "postgres" ]; then
    shift
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        if [ -z "${POSTGRES_PASSWORD:-}" ]; then
            echo "POSTGRES_PASSWORD is empty: refusing to initialise the database" >&2
            exit 1
        fi
        pwfile=$(mktemp)
        printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
        initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
               --auth-host=scram-sha-256 --encoding=UTF8 -D "$PGDATA" >/dev/null
        rm -f "$pwfile"
        echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
        # initialisation on the local socket only, then the scripts, as the official image does
        pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql" -w start >/dev/null
        if [ "$POSTGRES_DB" != "postgres" ]; then
            psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres -c "CREATE DATABASE \"$POSTGRES_DB\""
        fi
        for script in /docker-entrypoint-initdb.d/*; do
            [ -f "$script" ] || continue
            case "$script" in
                *.sh) echo "running $script"; if [ -x "$script" ]; then "$script"; else . "$script"; fi ;;
                *.sql) echo "running $script"; psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -f "$script" ;;
            esac
        done
        pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
        echo "database initialised"
    fi
    exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
fi
exec "$@"
