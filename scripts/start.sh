#!/usr/bin/env bash
# npm start: everything a newcomer needs in one command.
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/infra.sh"
build
say "migrating the database…"
node libs/db/dist/migrate.cli.js
exec node scripts/run-all.js
