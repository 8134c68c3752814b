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
# HISTEQ_TEST_LOAD=N runs N CPU-burning processes beside the suite: the drills must hold on a
# loaded machine without loosened checks.
burners=()
for _ in $(seq 1 "${HISTEQ_TEST_LOAD:-0}"); do
  nice -n 0 node -e 'for (;;) {}' &
  burners+=($!)
done
stop_burners() { [ ${#burners[@]} -eq 0 ] || kill "${burners[@]}" 2>/dev/null || true; }
trap stop_burners EXIT
node --test --test-reporter=spec --test-concurrency=1 "${files[@]}"
