#!/usr/bin/env bash
# Installs what this project needs on a fresh machine, and nothing when it is already there:
#   npm dependencies (when node_modules is missing or older than package-lock.json),
#   Debian's zookeeper package (a real ZooKeeper server for the local cluster and the tests),
#   Debian's libdeflate0 (the pods deflate TIFF chunks with it),
#   and with --test also Debian's chromium (UI tests) and python3-opencv (the independent
#   oracle the tests compare our equalization against).
# Debian packages are installed only when running as root; otherwise we say what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

quiet=false
want_test=false
for arg in "$@"; do
  case "$arg" in
    --quiet) quiet=true ;;
    --test) want_test=true ;;
    *) echo "ensure-deps: unknown option $arg" >&2; exit 2 ;;
  esac
done
say() { $quiet || echo "ensure-deps: $*" >&2; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

missing=()
[ -f /usr/share/zookeeper/bin/zkServer.sh ] || [ -n "${ZK_HOSTS:-}" ] || missing+=(zookeeper)
# libdeflate: the pods deflate TIFF chunks with it; without it they use Node's zlib, slower.
if ! { /sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null; } | grep -q 'libdeflate\.so\.0'; then
  if $want_test || [ "$(id -u)" = 0 ]; then
    missing+=(libdeflate0)
  else
    say "libdeflate0 is not installed: deflate TIFFs will be coded with Node's zlib, a third slower (sudo apt-get install libdeflate0)"
  fi
fi
if $want_test; then
  [ -f /usr/share/zookeeper/bin/zkServer.sh ] || missing+=(zookeeper)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  /usr/bin/python3 -c 'import cv2' >/dev/null 2>&1 || missing+=(python3-opencv)
fi
if [ ${#missing[@]} -gt 0 ]; then
  # shellcheck disable=SC2207
  missing=($(printf '%s\n' "${missing[@]}" | sort -u))
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    echo "ensure-deps: missing Debian packages: ${missing[*]} — run: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
