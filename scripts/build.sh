#!/usr/bin/env bash
# npm run build: every lib and app to runnable JavaScript (TypeScript project references, incremental).
source "$(dirname "$0")/lib.sh"
ensure_deps
build
say "built: apps/*/dist/main.js"
