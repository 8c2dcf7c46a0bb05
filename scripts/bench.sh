#!/usr/bin/env bash
# npm run bench: build, then Herald side by side with its baselines (bench/main.ts), against real processes.
#   npm run bench -- --quick     a short run for development (see `npm run bench -- --help`)
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/infra.sh"
build
npx tsc -b bench
status=0
node bench/dist/bench/main.js "$@" || status=$?
# The bench appends to RESULTS.md and writes bench/results/*.json: keep them as `npm run lint` wants them.
npx prettier --write --log-level warn bench/RESULTS.md bench/results || true
exit "$status"
