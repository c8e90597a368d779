#!/usr/bin/env bash
# Runs the libFuzzer targets for a long time, one after the other (events_fuzz, reports_fuzz, then
# rules_fuzz): scripts/fuzz.sh [SECONDS per target, default 3600]. New corpus entries go to
# build/fuzz/tests/fuzz/events-corpus, build/fuzz/tests/fuzz/reports-corpus and build/fuzz/dsl/rules-corpus,
# crashes beside them (crash-*).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-3600}
scripts/setup.sh
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
out=build/fuzz/tests/fuzz
"$out/events_fuzz" -max_total_time="$seconds" -max_len=8192 -dict=tests/fuzz/events.dict \
  -artifact_prefix="$out/" "$out/events-corpus" tests/fuzz/events
mkdir -p "$out/reports-corpus"
"$out/reports_fuzz" -max_total_time="$seconds" -max_len=16384 -rss_limit_mb=2048 -malloc_limit_mb=512 \
  -dict=tests/fuzz/reports.dict -artifact_prefix="$out/" "$out/reports-corpus" tests/fuzz/reports
# The rules target is built in dsl/ (it instruments the rules library itself); the same corpus directory
# as its 60-second CTest run.
rules_out=build/fuzz/dsl
mkdir -p "$rules_out/rules-corpus"
"$rules_out/rules_fuzz" -max_total_time="$seconds" -max_len=16384 -dict=tests/fuzz/rules.dict \
  -artifact_prefix="$rules_out/" "$rules_out/rules-corpus" tests/fuzz/rules
