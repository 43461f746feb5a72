#!/usr/bin/env bash
# Proves README's two commands are the whole set-up: clones the committed repository into a temporary folder and
# runs `npm install`, then `npm test`, there, with no VS Code install to reuse (the clone has no .cache/, and
# SYNCMANAGER_VSCODE_HOME is unset), so the test command must install VS Code itself.
#
#   scripts/fresh-clone-check.sh           npm install, then npm test of the tests that need the first-use installs
#                                          (test/vscode: VS Code, Chromium) and a few that build and run the package
#   scripts/fresh-clone-check.sh --full    npm install, then the whole npm test (what a new user runs)
#
# .ci/run calls the first form after the full suite has passed in the checkout: the subset proves what a fresh
# folder adds (nothing but the two commands; the first-use install; the build from a clean tree) without running
# every test twice. Debian packages already on the machine stay (they are the machine's, not the clone's).
# Exit status: that of the first command that failed. The temporary folder is removed unless KEEP=1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SUBSET=(test/vscode/ test/e2e/package test/e2e/examples test/server/cli)
full=
for arg in "$@"; do
  case "$arg" in
    --full) full=1 ;;
    *) echo "scripts/fresh-clone-check.sh: unknown argument $arg (expected --full)" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d "${TMPDIR:-/tmp}/syncmanager-fresh-clone-XXXXXX")
cleanup() { if [ "${KEEP:-}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT

started=$(date +%s)
step() { echo "== fresh clone: $* ($(( $(date +%s) - started )) s so far)"; }

step "git clone $(git -C "$ROOT" rev-parse --short HEAD) into $work/syncmanager"
git clone --quiet --no-hardlinks "$ROOT" "$work/syncmanager"
cd "$work/syncmanager"
unset SYNCMANAGER_VSCODE_HOME SYNCMANAGER_SKIP_VSCODE
[ ! -e .cache ] || { echo "the clone has a .cache folder: it is not fresh" >&2; exit 1; }

step "npm install"
npm install --no-audit --no-fund --prefer-offline

if [ -n "$full" ]; then
  step "npm test"
  npm test
else
  step "npm test -- ${SUBSET[*]}"
  npm test -- "${SUBSET[@]}"
fi
[ -f .cache/vscode-test/node_modules/code-server/lib/vscode/out/server-main.js ] ||
  { echo "npm test did not install the VS Code server into the clone's .cache/vscode-test" >&2; exit 1; }
step "passed"
