#!/usr/bin/env bash
# Runs the libFuzzer targets for a long time: scripts/fuzz.sh [SECONDS per target, default 3600].
# New corpus entries go to build/fuzz/tests/fuzz/*-corpus; crashes to build/fuzz/tests/fuzz/crash-*.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-3600}
scripts/setup.sh
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
out=build/fuzz/tests/fuzz
"$out/events_fuzz" -max_total_time="$seconds" -max_len=8192 -dict=tests/fuzz/events.dict \
  -artifact_prefix="$out/" "$out/events-corpus" tests/fuzz/events
