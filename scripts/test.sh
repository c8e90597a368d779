#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite: release and asan presets, then each libFuzzer target
# for 60 seconds (clang, ASan + UBSan).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
for preset in release asan fuzz; do
  echo "== $preset ==" >&2
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  ctest --preset "$preset"
done
