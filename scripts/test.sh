#!/usr/bin/env bash
# npm test: the same infrastructure check as npm start, a build (e2e tests run the built
# apps as real processes), then every Jest project: unit, integration, e2e, browser
# (Chromium is installed with apt-get when missing, as root on Debian).
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/infra.sh" --browser
build
say "type-checking the tests and tools…"
npx tsc --noEmit -p tsconfig.json
say "running tests…"
npx jest --ci "$@"
