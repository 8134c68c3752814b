#!/usr/bin/env bash
# Builds dist/ only when something it is built from changed since the last build, so that
# `npm run cli|local|bench|chaos|demo:*` start at once when nothing changed (even an
# incremental `tsc` takes seconds just to check). With --force (`npm run build`, `npm test`) it
# always builds, and refreshes the stamp.
#
# The stamp's time is taken before tsc starts, so a file saved during a build is newer than the
# stamp and triggers the next build; a failed build leaves no stamp. Deleting or renaming a
# source file changes its folder's time, which find sees too.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=dist/.build-stamp
inputs=(src test bench tsconfig.json package-lock.json)
[ -f node_modules/.package-lock.json ] && inputs+=(node_modules/.package-lock.json)
force=false
[ "${1:-}" = --force ] && force=true
if ! $force && [ -f "$stamp" ] && [ -z "$(find "${inputs[@]}" -newer "$stamp" -print -quit)" ]; then
  exit 0
fi
mkdir -p dist
next=$(mktemp dist/.build-stamp.XXXXXX)
trap 'rm -f "$next"' EXIT
node_modules/.bin/tsc -p tsconfig.json
mv "$next" "$stamp"
