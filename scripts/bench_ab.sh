#!/usr/bin/env bash
# scripts/bench_ab.sh OLD_BIN NEW_BIN [EVENTS] [ROUNDS]   (default 1000000 3)
#
# Before/after of two fenzhang binaries on the same input (issue 12 asks for every figure as a ratio
# measured in one invocation, on this shared and noisy machine): the same generated events (seed 1,
# 1000 streamers) appended durably into a fresh ledger with the default rules, then `replay` and the
# what-if `replay --rules` (the default rules with a 25% agency share) of that ledger, old and new
# alternating ROUNDS times so the machine's other load falls on both. Prints each run's events/s, CPU seconds and peak
# RSS, then the medians and new/old ratios. Both binaries must read the ledgers the other writes (the
# same on-disk format).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 2 ]] || { echo "usage: scripts/bench_ab.sh OLD_BIN NEW_BIN [EVENTS] [ROUNDS]" >&2; exit 2; }
old=$1 new=$2
events=${3:-1000000}
rounds=${4:-3}
[[ -x "$old" && -x "$new" ]] || { echo "bench_ab: $old and $new must be executables" >&2; exit 2; }
[[ "$events" =~ ^[1-9][0-9]*$ && "$rounds" =~ ^[1-9][0-9]*$ ]] ||
  { echo "usage: scripts/bench_ab.sh OLD_BIN NEW_BIN [EVENTS] [ROUNDS]" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/fz-bench-ab.XXXXXX")
trap 'rm -rf "$work"' EXIT
variant="$work/agency-25.rules"
sed 's/^let agency_share = 20%$/let agency_share = 25%/' rules/taobao-live.rules >"$variant"
"$new" gen --events "$events" --seed 1 --streamers 1000 >"$work/events.jsonl"
n=$(wc -l <"$work/events.jsonl")
declare -A rates cpus
timed() {  # timed LABEL CMD...: prints events/s, cpu and peak RSS; records the rate under LABEL
  local label=$1 t0 t1 out
  shift
  t0=$(date +%s%N)
  out=$( { /usr/bin/time -f '%U %S %M' "$@" >/dev/null; } 2>&1 | tail -1)
  t1=$(date +%s%N)
  local rate=$(( n * 1000000000 / (t1 - t0) ))
  rates[$label]="${rates[$label]:-} $rate"
  read -r user sys rss <<<"$out"
  local cpu
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
  cpus[$label]="${cpus[$label]:-} $cpu"
  printf '%-16s %9d events/s  cpu %6.2f s  peak RSS %5d MB  (load %s)\n' "$label" "$rate" "$cpu" \
    $((rss / 1024)) "$(cut -d' ' -f1 /proc/loadavg)"
}
run() {  # run NAME BIN
  local db="$work/db-$1"
  rm -rf "$db"
  "$2" --db "$db" rules publish rules/taobao-live.rules >/dev/null
  timed "$1 append" "$2" --db "$db" --format json append "$work/events.jsonl"
  timed "$1 replay" "$2" --db "$db" --format json replay
  timed "$1 what-if" "$2" --db "$db" --format json replay --rules "$variant"
}
for ((r = 0; r < rounds; r++)); do
  run old "$old"
  run new "$new"
done
# Wall-clock rates, and CPU seconds (user + system, all threads): on a loaded machine the CPU time is
# the steadier of the two, since another process's load stretches the wall clock but not the work done.
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for what in append replay what-if; do
  a=$(echo "${rates[old $what]}" | median)
  b=$(echo "${rates[new $what]}" | median)
  ca=$(echo "${cpus[old $what]}" | median)
  cb=$(echo "${cpus[new $what]}" | median)
  awk -v w="$what" -v a="$a" -v b="$b" -v n="$n" -v ca="$ca" -v cb="$cb" \
    'BEGIN { printf "median %-8s old %8d ev/s, new %8d ev/s at %d events: %.2fx wall; CPU %.1f / %.1f s: %.2fx less\n", w, a, b, n, b / a, ca, cb, ca / cb }'
done
