#!/usr/bin/env bash
# The one test command (npm test): install what is missing, type-check and build, lint, then run
# every test file with Node's own test runner against real ZooKeeper, real processes and Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh --test
bash scripts/build-if-stale.sh --force
npx eslint .
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }
mkdir -p test-output
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
if [ "$#" -gt 0 ]; then mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -E "$1"); fi
[ ${#files[@]} -gt 0 ] || { echo "no test files found" >&2; exit 1; }
exec node --test --test-reporter=spec --test-concurrency=1 "${files[@]}"
