#!/usr/bin/env bash
# npm run bench: build, then Herald side by side with its baselines (bench/main.ts), against real processes.
#   npm run bench -- --quick     a short run for development (see `npm run bench -- --help`)
source "$(dirname "$0")/lib.sh"
# The peers of issue 12 (Socket.IO's Redis Streams adapter, the LangGraph Agent Server and SDK)
# are a package of their own, installed here on first use (and when its lockfile is newer),
# never by Herald's own install: `npm start` and `npm test` do not download them.
PEERS="$ROOT/bench/peers"
if [ ! -f "$PEERS/node_modules/.package-lock.json" ] || [ "$PEERS/package-lock.json" -nt "$PEERS/node_modules/.package-lock.json" ] \
   || [ "$PEERS/package.json" -nt "$PEERS/node_modules/.package-lock.json" ]; then
  say "installing the benchmark's peers (npm install --prefix bench/peers)…"
  npm install --prefix "$PEERS" --no-audit --no-fund
fi
bash "$ROOT/scripts/infra.sh"
build
npx tsc -b bench
status=0
node bench/dist/bench/main.js "$@" || status=$?
# The bench appends to RESULTS.md and writes bench/results/*.json: keep them as `npm run lint` wants them.
npx prettier --write --log-level warn bench/RESULTS.md bench/results || true
exit "$status"
