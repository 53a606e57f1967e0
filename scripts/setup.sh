#!/usr/bin/env bash
# Sets up a fresh Debian machine for High Score: the Debian packages the tests and datasets use,
# then the npm dependencies (which also builds the bundles), then code-server (scripts/setup-vscode.sh).
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(
  python3-numpy python3-scipy   # the independent check of the noise schedule (test)
  dataset-fashion-mnist         # the fashion-mnist dataset (60k images, offline)
  chromium                      # the headless browser of the vscode and ui suites (driven by playwright-core)
  libkrb5-dev                   # gssapi.h, for code-server's native modules (scripts/setup-vscode.sh)
  unzip                         # the VSIX check lists the package
)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# WebGPU without a GPU (test/unit/webgpu.test.ts): Mesa's llvmpipe Vulkan driver, a software adapter
# for Dawn. Dawn needs Mesa 23 or later; Debian 12 (bookworm) ships 22.3, so there it comes from
# bookworm-backports.
if ! dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -qE '^(2[3-9]|[3-9][0-9])\.'; then
  target=()
  if [ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" = bookworm ]; then
    echo "deb http://deb.debian.org/debian bookworm-backports main" | $sudo tee /etc/apt/sources.list.d/highscore-backports.list >/dev/null
    target=(-t bookworm-backports)
  fi
  echo "setup: installing Mesa's Vulkan drivers ${target[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${target[@]}" mesa-vulkan-drivers libvulkan1
fi

echo "setup: npm ci"
npm ci --no-audit --no-fund

# A real VS Code for the extension tests and `npm start` where none is installed: Node 24 and
# code-server into .tools/ (about 2 minutes the first time).
scripts/setup-vscode.sh
