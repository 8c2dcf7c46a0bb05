#!/usr/bin/env bash
# npm run bench: build, then Herald side by side with its baselines (bench/main.ts), against real processes.
#   npm run bench -- --quick     a short run for development
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/infra.sh"
build
npx tsc -b bench
exec node bench/dist/bench/main.js "$@"
