#!/usr/bin/env bash
# npm start: everything a newcomer needs in one command.
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/infra.sh"
build
say "migrating the database…"
NODE_ENV="${NODE_ENV:-development}" node libs/db/dist/migrate.cli.js
# In development the useChat example's page (npm run example:use-chat, its own origin) may call
# the gateway; CORS_ORIGINS set by hand (or any other NODE_ENV) replaces this.
if [ "${NODE_ENV:-development}" = development ] && [ -z "${CORS_ORIGINS:-}" ]; then
  export CORS_ORIGINS="http://localhost:5173"
fi
say "starting Herald in development mode (NODE_ENV=${NODE_ENV:-development})…"
NODE_ENV="${NODE_ENV:-development}" exec node scripts/run-all.js
