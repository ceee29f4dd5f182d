#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `cluster.sh start DIR` installs Debian's
# postgresql when it is missing, runs initdb in DIR (as the postgres user when run as
# root: initdb refuses root), starts the server on a Unix socket in DIR and on a free
# 127.0.0.1 port, creates the database `pitstop_test`, and prints the libpq connection
# string. `cluster.sh stop DIR` stops it and removes DIR. `cluster.sh restart DIR`
# restarts it (fast mode) for the restart test.
set -euo pipefail

action=${1:?usage: cluster.sh start|stop|restart DIR}
dir=${2:?usage: cluster.sh start|stop|restart DIR}

find_bin() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    echo "$found"
}

bin=$(find_bin)
if [ -z "$bin" ]; then
    if command -v apt-get >/dev/null; then
        echo "installing postgresql (Debian package)" >&2
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        bin=$(find_bin)
    fi
fi
[ -n "$bin" ] || { echo "PostgreSQL not found: install the postgresql package" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$action" in
start)
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo "$port" >"$dir/port"
    # fsync stays on: the durability tests mean it. Small shared memory: CI machines are small.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=64MB" start >&2 \
        || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -qAt \
        -c "CREATE DATABASE pitstop_test" \
        -c "ALTER ROLE postgres PASSWORD 'pitstop'" >&2
    echo "host=$dir port=$port user=postgres dbname=pitstop_test"
    ;;
restart)
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -m fast restart >&2
    ;;
stop)
    if [ -d "$dir/data" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -w -t 60 -m fast stop >&2 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: cluster.sh start|stop|restart DIR" >&2
    exit 2
    ;;
esac
