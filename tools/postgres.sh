#!/usr/bin/env bash
# A throwaway PostgreSQL server for the store tests: installed from Debian's packages when missing, one cluster in
# a temporary directory owned by the postgres user, listening on 127.0.0.1 only, on a free port.
# Usage: tools/postgres.sh start   start it (if not running) and print its DSN
#        tools/postgres.sh dsn     print the DSN of the running server (postgresql://vpp:<password>@127.0.0.1:<port>/vpp)
#        tools/postgres.sh stop    stop it and delete its data
# The role in the DSN may create databases: the tests give every test a fresh one.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
state="$repo/run/postgres.env"
major="${VPP_POSTGRES_MAJOR:-15}"

die() { echo "tools/postgres.sh: $*" >&2; exit 1; }

# Run a PostgreSQL program as the cluster owner: postgres when we are root (the server refuses to run as root).
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

bindir() {
    local dir="/usr/lib/postgresql/$major/bin"
    if [ ! -x "$dir/initdb" ]; then
        "$repo/tools/debian-packages.sh" "$dir/initdb:postgresql-$major" \
            || die "PostgreSQL $major is not installed; a developer without root can still run 'make unit'"
    fi
    [ -x "$dir/initdb" ] || die "PostgreSQL $major installed, but $dir/initdb is missing"
    echo "$dir"
}

running() {
    [ -f "$state" ] || return 1
    # shellcheck source=/dev/null
    . "$state"
    as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    if running; then echo "$PG_DSN"; return; fi
    rm -f "$state"
    local bin dir port password
    bin=$(bindir)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/mdm-vpp-postgres.XXXXXX")
    chmod 0755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    port=$(free_port)
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    as_owner mkdir -p "$dir/socket"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    # A throwaway test server: durability settings off for speed, enough connections for parallel jobs, no
    # autovacuum (its workers would race the tests' DROP DATABASE ... WITH (FORCE)).
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir/socket -c max_connections=300 \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off" >/dev/null \
        || { cat "$dir/server.log" >&2; die "the server did not start"; }
    as_owner "$bin/psql" -q -h "$dir/socket" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE vpp LOGIN CREATEDB PASSWORD '$password'" -c "GRANT pg_signal_backend TO vpp" \
        -c "CREATE DATABASE vpp OWNER vpp" >/dev/null
    mkdir -p "$(dirname "$state")"
    umask 077
    cat >"$state" <<STATE
PG_BIN=$bin
PG_DIR=$dir
PG_DSN=postgresql://vpp:$password@127.0.0.1:$port/vpp
STATE
    echo "postgresql://vpp:$password@127.0.0.1:$port/vpp"
}

stop() {
    [ -f "$state" ] || return 0
    # shellcheck source=/dev/null
    . "$state"
    as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR" "$state"
    echo "PostgreSQL stopped"
}

case "${1:-}" in
    start) start ;;
    dsn) running || die "not running (tools/postgres.sh start)"; echo "$PG_DSN" ;;
    stop) stop ;;
    *) die "usage: tools/postgres.sh start|dsn|stop" ;;
esac
