#!/usr/bin/env bash
# Installs what test/vscode needs to run the extension inside a real VS Code on a machine that reaches only the
# npm registry and Debian's archive (VS Code's own download and the `electron` package are out of reach):
#   - Debian: chromium (plays the VS Code window, headless), libkrb5-dev (code-server's `kerberos` native module),
#     ripgrep (stands in for @vscode/ripgrep's GitHub download);
#   - npm, into .cache/vscode-test (git-ignored, kept out of the project's node_modules, 300+ MB):
#     code-server, whose package ships the VS Code server and web workbench, and playwright-core to drive Chromium.
# Idempotent: when everything is in place and its native modules load, it does nothing and prints nothing.
# `npm test` runs it before the tests inside VS Code, so the first run installs and later runs reuse the install.
# Says what it installs before each step and how long it took after; on failure, the tail of the log. Works as
# root without a TTY (CI=true).
#
# Environment: SYNCMANAGER_VSCODE_HOME (install folder, default <repo>/.cache/vscode-test), npm_config_nodedir
# (a folder holding include/node/node.h, when npm's config does not name one and node's own prefix has none).
set -euo pipefail

CODE_SERVER_VERSION=4.100.3   # VS Code 1.100.3; the newest code-server whose engines accept Node 20
PLAYWRIGHT_RANGE=1           # installed-state check below accepts any 1.x
RIPGREP_PKG_VERSION=1.15.11   # the @vscode/ripgrep that code-server 4.100.3 locks ...
RIPGREP_BIN_VERSION=v13.0.0-10 # ... and the ripgrep build its postinstall downloads

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEST=${SYNCMANAGER_VSCODE_HOME:-$ROOT/.cache/vscode-test}
LOG=$DEST/install.log
mkdir -p "$DEST"

log_started=
start_log() { [ -n "$log_started" ] || { : > "$LOG"; log_started=1; }; }
die() { echo "scripts/vscode-test/setup.sh: $*" >&2; exit 1; }
fail_with_log() {
  echo "scripts/vscode-test/setup.sh: $1; last lines of $LOG:" >&2
  tail -n 60 "$LOG" >&2 || true
  exit 1
}

# One setup at a time per install folder (a second caller waits, then finds everything done).
if command -v flock >/dev/null; then
  exec 9>"$DEST/.lock"
  flock -w 900 9 || die "another setup.sh holds $DEST/.lock"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]') || die "node is not on PATH"
[ "$node_major" = 20 ] || die "code-server $CODE_SERVER_VERSION needs Node 20 (its native modules and postinstall check it); this is Node $node_major"

# --- 1. Debian packages ------------------------------------------------------------------------------------------
missing=()
command -v chromium >/dev/null || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
command -v rg >/dev/null || missing+=(ripgrep)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo -n); else
    die "missing Debian packages: ${missing[*]} (run as root, or install them)"
  fi
  start_log
  apt_started=$(date +%s)
  echo "Installing Debian packages for the tests inside VS Code: ${missing[*]} (apt-get, once; about a minute; log in $LOG)"
  { "${sudo[@]}" apt-get update -qq &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  } >>"$LOG" 2>&1 || fail_with_log "apt-get install ${missing[*]} failed"
  echo "Installed ${missing[*]} ($(( $(date +%s) - apt_started )) s)"
fi

# --- 2. Is the npm part already in place? -------------------------------------------------------------------------
# Right versions, and the native modules load (they do not after a Node ABI change: then install afresh).
VSCODE_DIR=$DEST/node_modules/code-server/lib/vscode
installed_ok() {
  [ -f "$VSCODE_DIR/out/server-main.js" ] && (cd "$VSCODE_DIR" && node -e '
    const [dest, want] = process.argv.slice(1);
    const version = (p) => require(require.resolve(p + "/package.json", { paths: [dest] })).version;
    if (version("code-server") !== want) throw new Error(`code-server ${version("code-server")} installed, ${want} wanted`);
    if (!version("playwright-core").startsWith("1.")) throw new Error("playwright-core is not 1.x");
    require(require.resolve("playwright-core", { paths: [dest] }));
    for (const m of ["@vscode/spdlog", "node-pty", "native-watchdog", "@parcel/watcher", "kerberos"]) require(m);
    require("child_process").execFileSync(require("@vscode/ripgrep").rgPath, ["--version"], { stdio: "ignore" });
  ' "$DEST" "$CODE_SERVER_VERSION")
}
if installed_ok >/dev/null 2>&1; then
  exit 0
fi

# --- 3. npm install into $DEST --------------------------------------------------------------------------------------
started=$(date +%s)
start_log
echo "Installing the VS Code server (code-server $CODE_SERVER_VERSION) and playwright-core into ${DEST#"$ROOT"/} for the tests inside VS Code: once, reused afterwards; about 2 to 5 minutes (log in $LOG)"

if [ -d "$DEST/node_modules" ]; then
  # Something changed (versions, Node ABI) or broke: start over rather than patch a half-built tree.
  rm -rf "$DEST/node_modules" "$DEST/package-lock.json"
fi
[ -f "$DEST/package.json" ] || echo '{ "private": true, "description": "VS Code server + playwright-core for test/vscode (scripts/vscode-test/setup.sh)" }' > "$DEST/package.json"

# @vscode/ripgrep's postinstall downloads ripgrep from github.com unless its cache (in os.tmpdir()) has it:
# seed that cache with Debian's rg.
case "$(uname -m)" in
  x86_64) rg_target=x86_64-unknown-linux-musl ;;
  aarch64 | arm64) rg_target=aarch64-unknown-linux-musl ;;
  *) die "no ripgrep cache mapping for $(uname -m)" ;;
esac
rg_cache=${TMPDIR:-/tmp}/vscode-ripgrep-cache-$RIPGREP_PKG_VERSION
rg_tarball=$rg_cache/ripgrep-$RIPGREP_BIN_VERSION-$rg_target.tar.gz
if [ ! -s "$rg_tarball" ]; then
  mkdir -p "$rg_cache"
  rg_tmp=$(mktemp -d)
  cp "$(command -v rg)" "$rg_tmp/rg"
  tar czf "$rg_tarball.part" -C "$rg_tmp" rg && mv "$rg_tarball.part" "$rg_tarball"
  rm -rf "$rg_tmp"
fi

# Native modules (node-pty, spdlog, kerberos, watcher, argon2) compile with node-gyp against Node's headers, which
# cannot be downloaded here: use npm's configured nodedir, else the headers next to this node.
configured_nodedir=$(npm config get nodedir 2>/dev/null || true)
if [ -z "${npm_config_nodedir:-}" ] && { [ -z "$configured_nodedir" ] || [ "$configured_nodedir" = undefined ] || [ "$configured_nodedir" = null ]; }; then
  node_prefix=$(dirname "$(dirname "$(command -v node)")")
  if [ -f "$node_prefix/include/node/node.h" ]; then export npm_config_nodedir=$node_prefix; fi
fi

# npm_config_yes: node-pty's postinstall runs `npx node-gyp`, which a `yes=false` npmrc would cancel without a TTY.
# npm_config_unsafe_perm: code-server's postinstall refuses to run as root without it (npm >= 7 ignores it itself).
# --foreground-scripts keeps the postinstall output (the long part) in the log.
(cd "$DEST" && npm_config_yes=true npm_config_unsafe_perm=true npm install --no-audit --no-fund --foreground-scripts --loglevel=warn \
  "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_RANGE") >>"$LOG" 2>&1 ||
  fail_with_log "npm install of code-server@$CODE_SERVER_VERSION and playwright-core failed"

installed_ok >>"$LOG" 2>&1 || fail_with_log "installed, but the VS Code server's native modules do not load"
echo "VS Code $(node -p "require('$VSCODE_DIR/package.json').version") (code-server $CODE_SERVER_VERSION) and playwright-core installed in ${DEST#"$ROOT"/} ($(( $(date +%s) - started )) s)"
