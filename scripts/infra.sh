#!/usr/bin/env bash
# Makes sure NATS (with JetStream), PostgreSQL and Redis answer on loopback.
# Starts the local ones if installed but stopped; on Debian as root, installs missing ones
# with apt-get; otherwise says exactly what to run. Endpoints come from NATS_URL, REDIS_URL
# and DATABASE_URL; only loopback endpoints are ever started or installed here.
source "$(dirname "$0")/lib.sh"

NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/herald}"

hostport() { node -e 'const u=new URL(process.argv[1]);console.log(u.hostname.replace(/^\[|\]$/g,"")+" "+(u.port||process.argv[2]))' "$1" "$2"; }
is_loopback() { case "$1" in 127.*|localhost|::1) return 0;; *) return 1;; esac; }
up() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
wait_up() { for _ in $(seq 1 60); do up "$1" "$2" && return 0; sleep 0.5; done; return 1; }
am_root() { [ "$(id -u)" = 0 ]; }
can_apt() { am_root && command -v apt-get >/dev/null; }
APT_UPDATED=0
apt_install() {
  [ "$APT_UPDATED" = 1 ] || { DEBIAN_FRONTEND=noninteractive apt-get update -qq; APT_UPDATED=1; }
  say "installing $* with apt-get…"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_nats() {
  read -r host port < <(hostport "${NATS_URL%%,*}" 4222)
  up "$host" "$port" && return 0
  is_loopback "$host" || die "NATS is not reachable at $host:$port (NATS_URL). Start it with JetStream enabled (nats-server -js)."
  if ! command -v nats-server >/dev/null && [ ! -x /usr/sbin/nats-server ]; then
    can_apt || die "NATS is not running and not installed. Install it (Debian: apt-get install nats-server) and run: nats-server -a 127.0.0.1 -p $port -js -sd /var/lib/nats-server"
    apt_install nats-server
  fi
  local bin; bin="$(command -v nats-server || echo /usr/sbin/nats-server)"
  local store=/var/lib/nats-server; am_root || store="$ROOT/.data/nats"
  mkdir -p "$store"
  say "starting NATS with JetStream on $host:$port (store $store)…"
  if command -v start-stop-daemon >/dev/null && am_root; then
    start-stop-daemon --start --oknodo --background --exec "$bin" -- -a "$host" -p "$port" -js -sd "$store"
  else
    nohup "$bin" -a "$host" -p "$port" -js -sd "$store" >"$store/nats.log" 2>&1 &
  fi
  wait_up "$host" "$port" || die "NATS did not come up on $host:$port"
}

ensure_redis() {
  read -r host port < <(hostport "$REDIS_URL" 6379)
  up "$host" "$port" && return 0
  is_loopback "$host" || die "Redis is not reachable at $host:$port (REDIS_URL)."
  if ! command -v redis-server >/dev/null; then
    can_apt || die "Redis is not running and not installed. Install it (Debian: apt-get install redis-server) and run: redis-server --port $port --daemonize yes"
    apt_install redis-server
  fi
  say "starting Redis on $host:$port…"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$port" --save "" --appendonly no >/dev/null
  wait_up "$host" "$port" || die "Redis did not come up on $host:$port"
}

ensure_postgres() {
  read -r host port < <(hostport "$DATABASE_URL" 5432)
  up "$host" "$port" && return 0
  is_loopback "$host" || die "PostgreSQL is not reachable at $host:$port (DATABASE_URL)."
  local installed_now=0
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    can_apt || die "PostgreSQL is not running and not installed. Install it (Debian: apt-get install postgresql), allow the user in DATABASE_URL to connect on $host:$port, and start it."
    apt_install postgresql
    installed_now=1
  fi
  local version; version="$(ls /etc/postgresql | sort -V | tail -n1)"
  if [ "$installed_now" = 1 ]; then
    # A cluster we just created for local development: trust loopback connections, as
    # the default DATABASE_URL (no password) expects. Never done to an existing cluster.
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  am_root || die "PostgreSQL $version is installed but stopped; start it: pg_ctlcluster $version main start"
  say "starting PostgreSQL $version…"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || pg_ctlcluster "$version" main start
  wait_up "$host" "$port" || die "PostgreSQL did not come up on $host:$port"
}

# The browser tests (npm test) drive Debian's Chromium with playwright-core.
ensure_chromium() {
  local chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
  [ -x "$chromium" ] && return 0
  if can_apt; then
    apt_install chromium
  else
    say "warning: $chromium is missing, so the browser tests will fail; install it (Debian: apt-get install chromium) or set CHROMIUM_PATH"
  fi
}

ensure_nats
ensure_redis
ensure_postgres
[ "${1:-}" = --browser ] && ensure_chromium
ensure_deps
node scripts/check-infra.js
