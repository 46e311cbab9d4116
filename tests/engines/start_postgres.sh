#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server on 127.0.0.1 for the SQL results tests, installing Debian's package if
# the machine has no server. Prints the DSN to use (VIGIL_POSTGRES_DSN). Usage: tests/engines/start_postgres.sh [PORT]
set -euo pipefail
PORT="${1:-54329}"
# The first free port from PORT on (a server from an earlier run may hold it).
while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done
bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
if [ -z "$(bin_dir)" ] || [ ! -x "$(bin_dir)/initdb" ]; then
  echo "installing postgresql (Debian package)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
BIN="$(bin_dir)"
# The server refuses to run as root: run it as the `postgres` user (created by the package, or here).
RUN_AS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  RUN_AS=(runuser -u postgres --)
fi
DATA="$(mktemp -d /tmp/vigil-pg.XXXXXX)"
chmod 755 "$DATA"
[ "$(id -u)" = 0 ] && chown postgres "$DATA"
"${RUN_AS[@]}" "$BIN/initdb" -D "$DATA/db" -A trust -U vigil -E UTF8 --locale=C.UTF-8 >/dev/null
"${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DATA/db" -l "$DATA/log" -w \
  -o "-p $PORT -k $DATA -c listen_addresses=127.0.0.1" start >/dev/null
echo "host=127.0.0.1 port=$PORT user=vigil dbname=postgres"
