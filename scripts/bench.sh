#!/usr/bin/env bash
# npm run bench: build, then the load run of bench/load.ts against real processes.
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/infra.sh"
build
npx tsc -b bench
node bench/dist/bench/load.js "$@"
