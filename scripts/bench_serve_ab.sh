#!/usr/bin/env bash
# scripts/bench_serve_ab.sh OLD_BIN NEW_BIN [CLIENTS] [EVENTS_PER_CLIENT] [ROUNDS]   (default 64 1000 5)
#
# Before/after of two fenzhang binaries serving single-event clients (issue 16), old and new alternating
# ROUNDS times in one invocation: this machine's single-event throughput moves by ±15% between runs of
# the same binary, more than most changes to the server. Each run: a fresh ledger with
# rules/taobao-live.rules published, `fenzhang serve` on an ephemeral port of 127.0.0.1, and
# fenzhang-load (from FZ_LOAD, default the release build beside NEW_BIN's build, built if missing) with
# CLIENTS clients posting EVENTS_PER_CLIENT single events each. Prints each run's events/s, p50/p99, the
# server's CPU per event (user + system from /proc, the steadier figure) and events per synced batch,
# then the medians and new/old ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 2 ]] ||
  { echo "usage: scripts/bench_serve_ab.sh OLD_BIN NEW_BIN [CLIENTS] [EVENTS_PER_CLIENT] [ROUNDS]" >&2; exit 2; }
old=$1 new=$2
clients=${3:-64}
per_client=${4:-1000}
rounds=${5:-5}
[[ -x "$old" && -x "$new" ]] || { echo "bench_serve_ab: $old and $new must be executables" >&2; exit 2; }
[[ "$clients" =~ ^[1-9][0-9]*$ && "$per_client" =~ ^[1-9][0-9]*$ && "$rounds" =~ ^[1-9][0-9]*$ ]] ||
  { echo "usage: scripts/bench_serve_ab.sh OLD_BIN NEW_BIN [CLIENTS] [EVENTS_PER_CLIENT] [ROUNDS]" >&2; exit 2; }
load=${FZ_LOAD:-build/release/tools/fenzhang-load}
if [[ ! -x "$load" ]]; then
  cmake --preset release >/dev/null && cmake --build --preset release --target fenzhang-load >/dev/null
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/fz-bench-serve-ab.XXXXXX")
server_pid=
# shellcheck source=scripts/serve_common.sh
source scripts/serve_common.sh
cleanup() {
  stop_serve || true
  rm -rf "$work"
}
trap cleanup EXIT

declare -A rates cpus
run() {  # run LABEL BIN
  local label=$1 bin=$2 db="$work/db" c0 c1 stat
  fresh_ledger "$bin" "$db"
  start_serve "$bin" "$db"
  stat=/proc/$server_pid/stat
  c0=$(awk '{print $14 + $15}' "$stat")
  "$load" --connect "127.0.0.1:$port" --clients "$clients" --events-per-client "$per_client" \
    --per-request 1 >"$work/load.json"
  c1=$(awk '{print $14 + $15}' "$stat")
  curl -s --noproxy '*' "127.0.0.1:$port/health" >"$work/health.json" || echo '{}' >"$work/health.json"
  stop_serve
  local line
  line=$(python3 - "$work/load.json" "$work/health.json" "$c0" "$c1" "$(getconf CLK_TCK)" <<'PY'
import json, sys
load = json.load(open(sys.argv[1]))
try:
    health = json.load(open(sys.argv[2]))
except ValueError:
    health = {}
events = load["events_acknowledged"]
cpu_s = (int(sys.argv[4]) - int(sys.argv[3])) / int(sys.argv[5])
batches = health.get("batches", 0)
per_batch = f"{events / batches:.0f}" if batches else "?"
print(f'{load["events_per_second"]:.0f} {cpu_s * 1e6 / events:.1f} {load["post_p50_ms"]:.2f} '
      f'{load["post_p99_ms"]:.2f} {per_batch}')
PY
)
  read -r rate cpu p50 p99 per_batch <<<"$line"
  rates[$label]="${rates[$label]:-} $rate"
  cpus[$label]="${cpus[$label]:-} $cpu"
  printf '%-4s %8s events/s  server CPU %6s us/event  p50 %6s ms  p99 %6s ms  %4s events/batch  (load %s)\n' \
    "$label" "$rate" "$cpu" "$p50" "$p99" "$per_batch" "$(cut -d' ' -f1 /proc/loadavg)"
}
for ((r = 0; r < rounds; r++)); do
  run old "$old"
  run new "$new"
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
a=$(echo "${rates[old]}" | median)
b=$(echo "${rates[new]}" | median)
ca=$(echo "${cpus[old]}" | median)
cb=$(echo "${cpus[new]}" | median)
awk -v a="$a" -v b="$b" -v ca="$ca" -v cb="$cb" -v c="$clients" 'BEGIN {
  printf "median: old %d events/s, new %d events/s with %d single-event clients: %.2fx; server CPU %.1f / %.1f us an event: %.2fx less\n", a, b, c, b / a, ca, cb, ca / cb }'
