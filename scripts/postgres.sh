#!/usr/bin/env bash
# A private PostgreSQL cluster for local development (`make up`), started from the system's
# PostgreSQL binaries: no pre-running server is assumed.
#
#   scripts/postgres.sh start    initdb (first time) + start, create the database, print its URL
#   scripts/postgres.sh stop     fast shutdown
#   scripts/postgres.sh status   running or not, and the URL
#   scripts/postgres.sh url      print the database URL (TANGIBLE_API_DATABASE_URL, TANGIBLE_INDEXER_DATABASE_URL)
#
# Environment: PG_PORT (default 54329), PG_DB (default tangible), PG_DATA_DIR (default
# <repo>/.run/pg, git-ignored), PG_BIN_DIR (default: newest /usr/lib/postgresql/*/bin).
# As root, the server runs as the `postgres` system user (PostgreSQL refuses root).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${PG_PORT:-54329}"
DB="${PG_DB:-tangible}"
DATA="${PG_DATA_DIR:-$ROOT/.run/pg}"
LOGDIR="$DATA-log"
LOG="$LOGDIR/postgres.log"

find_bin() {
  if [[ -n "${PG_BIN_DIR:-}" ]]; then echo "$PG_BIN_DIR"; return; fi
  local best
  best="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  if [[ -n "$best" && -x "$best/postgres" ]]; then echo "$best"; return; fi
  if command -v pg_ctl >/dev/null; then dirname "$(command -v pg_ctl)"; return; fi
  echo "PostgreSQL server binaries not found (apt-get install postgresql, or set PG_BIN_DIR)" >&2
  exit 1
}
BIN="$(find_bin)"

as_server() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

url() { echo "postgres://postgres@127.0.0.1:$PORT/$DB"; }

running() { [[ -f "$DATA/postmaster.pid" ]] && as_server "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

start() {
  mkdir -p "$DATA" "$LOGDIR"
  chmod 700 "$DATA"
  if [[ "$(id -u)" == 0 ]]; then chown -R postgres: "$DATA" "$LOGDIR"; fi
  if [[ ! -f "$DATA/PG_VERSION" ]]; then
    as_server "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --no-locale >/dev/null
  fi
  if running; then
    echo "postgres already running: $(url)"
  else
    as_server "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
      -o "-p $PORT -c listen_addresses=127.0.0.1 -k $DATA" start >/dev/null
  fi
  if ! as_server "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    as_server "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
  fi
  echo "postgres running: $(url)"
}

stop() {
  if running; then
    as_server "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    echo "postgres stopped"
  else
    echo "postgres not running"
  fi
}

status() {
  if running; then echo "postgres running: $(url)"; else echo "postgres not running"; return 3; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) url ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
