#!/usr/bin/env bash
# Installs what test/redis needs: Debian's redis-server, which each test starts on a free port in a temporary
# folder of its own (test/helpers/redisServer.ts). `npm test` runs this before the Redis tests, so `npm install`
# then `npm test` is the whole set-up on a fresh Debian machine, as for the tests inside VS Code.
# Idempotent: when redis-server runs, it does nothing and prints nothing. Installs with apt-get as root, or through
# `sudo -n` when that needs no password; otherwise it says what to install and exits 1.
set -euo pipefail

redis-server --version >/dev/null 2>&1 && exit 0

if [ "$(id -u)" = 0 ]; then as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then as_root=(sudo -n)
else
  echo "scripts/redis-test/setup.sh: redis-server is not installed and this user cannot install it: run apt-get install redis-server as root" >&2
  exit 1
fi
command -v apt-get >/dev/null || { echo "scripts/redis-test/setup.sh: redis-server is not installed and there is no apt-get here: install Redis 6.2 or later" >&2; exit 1; }

started=$(date +%s)
echo "npm test: installing redis-server with apt-get for the Redis store's tests (once)"
log=$(mktemp "${TMPDIR:-/tmp}/syncmanager-redis-install-XXXXXX.log")
# env inside sudo: sudo resets the environment, DEBIAN_FRONTEND with it.
if ! { "${as_root[@]}" apt-get update && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server; } >"$log" 2>&1; then
  echo "scripts/redis-test/setup.sh: apt-get install redis-server failed; last lines of $log:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
rm -f "$log"
redis-server --version >/dev/null 2>&1 || { echo "scripts/redis-test/setup.sh: apt-get installed redis-server, but it does not run" >&2; exit 1; }
echo "npm test: redis-server installed in $(( $(date +%s) - started )) s ($(redis-server --version | cut -d' ' -f3))"
