#!/usr/bin/env bash
# npm start: everything a newcomer needs in one command.
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/infra.sh"
build
say "migrating the database…"
NODE_ENV="${NODE_ENV:-development}" node libs/db/dist/migrate.cli.js
say "starting Herald in development mode (NODE_ENV=${NODE_ENV:-development})…"
NODE_ENV="${NODE_ENV:-development}" exec node scripts/run-all.js
