#!/usr/bin/env bash
# scripts/bench_checkpoint.sh [EVENTS] [ROUNDS]   (default 1000000 3)
#
# The write-back checkpoint's A/B (issue 12): the same generated events (seed 1, 1000 streamers) appended
# into a fresh ledger with the default rules published, once with the projection written with every batch
# (`--checkpoint-every 0`, the write path before write-back) and once with the default interval, the two
# alternating ROUNDS times so that the machine's other load falls on both. Prints each run's events/s and
# peak RSS, then the ratio of the medians (write-back / every batch). Uses FZ_BIN if set, else the release
# build (built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
rounds=${2:-3}
[[ "$events" =~ ^[1-9][0-9]*$ && "$rounds" =~ ^[1-9][0-9]*$ ]] ||
  { echo "usage: scripts/bench_checkpoint.sh [EVENTS] [ROUNDS]" >&2; exit 2; }
fz=${FZ_BIN:-build/release/tools/fenzhang}
if [[ -z "${FZ_BIN:-}" && ! -x "$fz" ]]; then
  cmake --preset release >/dev/null && cmake --build --preset release -j"$(nproc)" --target fenzhang >/dev/null
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/fz-bench-checkpoint.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$fz" gen --events "$events" --seed 1 --streamers 1000 >"$work/events.jsonl"
declare -A rates
run() {  # run NAME INTERVAL
  local db="$work/db-$1" t0 t1 rss
  rm -rf "$db"
  "$fz" --db "$db" rules publish rules/taobao-live.rules >/dev/null
  t0=$(date +%s%N)
  rss=$( { /usr/bin/time -f '%M' "$fz" --db "$db" --format json append --checkpoint-every "$2" "$work/events.jsonl" >/dev/null; } 2>&1 | tail -1)
  t1=$(date +%s%N)
  local rate=$(( events * 1000000000 / (t1 - t0) ))
  rates[$1]="${rates[$1]:-} $rate"
  printf '%-12s %9d events/s  peak RSS %5d MB  (%s)\n' "$1" "$rate" $((rss / 1024)) "$(cut -d' ' -f1-3 /proc/loadavg)"
}
for ((r = 0; r < rounds; r++)); do
  run every-batch 0
  run write-back 65536
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m0=$(echo "${rates[every-batch]}" | median)
m1=$(echo "${rates[write-back]}" | median)
awk -v a="$m0" -v b="$m1" -v n="$events" 'BEGIN { printf "median: every batch %d ev/s, write-back %d ev/s at %d events: %.2fx\n", a, b, n, b / a }'
