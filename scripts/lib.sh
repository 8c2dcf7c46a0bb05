# Shared helpers for Herald's scripts (sourced, not run).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf '\033[1;36m[herald]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[herald]\033[0m %s\n' "$*" >&2; exit 1; }

# Installs npm dependencies when they are missing or older than package.json / the lockfile.
ensure_deps() {
  if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] \
     || [ package.json -nt node_modules/.package-lock.json ] \
     || { [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
    say "installing dependencies (npm install)…"
    # `npm ci` refuses lockfiles written on another platform; `npm install` honours the lock.
    npm install --no-audit --no-fund
  fi
}

build() {
  say "building…"
  npx tsc -b tsconfig.build.json
  node tools/build-web.mjs
}
