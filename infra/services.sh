#!/usr/bin/env bash
# Sourced by run.sh and test.sh: installs what is missing and makes Postgres and Redis
# reachable, exporting DATABASE_URL, REDIS_URL and HOTLINE_TEST_DATABASE_URL.
#
# - Debian packages listed in infra/apt-packages.txt are installed when missing
#   (a line "pkg norecommends" installs with --no-install-recommends).
# - DATABASE_URL / REDIS_URL already set: used as they are.
# - Otherwise the default local servers (127.0.0.1:5432, 127.0.0.1:6379) when they answer,
# - otherwise a private Postgres (port 55432) and Redis (port 56379) with data under .local/.
set -euo pipefail

HOTLINE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export HOTLINE_ROOT
LOCAL="$HOTLINE_ROOT/.local"
mkdir -p "$LOCAL"

log() { printf '\033[1m[hotline]\033[0m %s\n' "$*" >&2; }

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
  local want=() plain=() norec=() line pkg flag
  while read -r pkg flag; do
    [[ -z "$pkg" || "$pkg" == \#* ]] && continue
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      want+=("$pkg")
      if [ "${flag:-}" = norecommends ]; then norec+=("$pkg"); else plain+=("$pkg"); fi
    fi
  done < "$HOTLINE_ROOT/infra/apt-packages.txt"
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    want+=(nodejs npm); plain+=(nodejs npm)
  fi
  if [ ${#want[@]} -gt 0 ]; then
    log "installing Debian packages: ${want[*]}"
    sudo_if_needed apt-get update -qq
    export DEBIAN_FRONTEND=noninteractive
    [ ${#plain[@]} -gt 0 ] && sudo_if_needed apt-get install -y -qq "${plain[@]}" >&2
    [ ${#norec[@]} -gt 0 ] && sudo_if_needed apt-get install -y -qq --no-install-recommends "${norec[@]}" >&2
  fi
  return 0
}

ensure_cargo() {
  if ! command -v cargo >/dev/null; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
      export PATH="$HOME/.cargo/bin:$PATH"
    else
      log "no Rust toolchain: installing Debian's rustc-web/cargo-web"
      sudo_if_needed apt-get install -y -qq rustc-web cargo-web >&2
    fi
  fi
}

pg_up() { pg_isready -q -h "$1" -p "$2" 2>/dev/null; }

ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    export HOTLINE_TEST_DATABASE_URL="${HOTLINE_TEST_DATABASE_URL:-${DATABASE_URL%/*}/postgres}"
    return
  fi
  local host=127.0.0.1 port=5432 user=postgres
  if ! pg_up "$host" "$port"; then
    port=55432
    local data="$LOCAL/pg" bindir
    bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
    if ! pg_up "$host" "$port"; then
      log "no Postgres on 127.0.0.1:5432: starting a private one on port $port (data in .local/pg)"
      local run_as=()
      if [ "$(id -u)" = 0 ]; then run_as=(runuser -u postgres --); chown -R postgres "$LOCAL" 2>/dev/null || true; fi
      if [ ! -f "$data/PG_VERSION" ]; then
        mkdir -p "$data"; [ "$(id -u)" = 0 ] && chown postgres "$data"
        "${run_as[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust >/dev/null
      fi
      "${run_as[@]}" "$bindir/pg_ctl" -D "$data" -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" \
        -l "$data/server.log" -w start >/dev/null
    fi
  fi
  local base="postgres://$user@$host:$port"
  psql -q "$base/postgres" -tc "SELECT 1 FROM pg_database WHERE datname = 'hotline'" | grep -q 1 \
    || psql -q "$base/postgres" -c "CREATE DATABASE hotline" >/dev/null
  export DATABASE_URL="$base/hotline"
  export HOTLINE_TEST_DATABASE_URL="${HOTLINE_TEST_DATABASE_URL:-$base/postgres}"
}

ensure_redis() {
  [ -n "${REDIS_URL:-}" ] && return
  if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
    export REDIS_URL="redis://127.0.0.1:6379/"
    return
  fi
  local port=56379
  if ! redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
    log "no Redis on 127.0.0.1:6379: starting a private one on port $port (.local/redis)"
    mkdir -p "$LOCAL/redis"
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
      --dir "$LOCAL/redis" --logfile "$LOCAL/redis/redis.log"
    for _ in $(seq 50); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  fi
  export REDIS_URL="redis://127.0.0.1:$port/"
}

install_packages
ensure_cargo
ensure_postgres
ensure_redis
log "Postgres: $DATABASE_URL  Redis: $REDIS_URL"
