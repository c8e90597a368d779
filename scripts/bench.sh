#!/usr/bin/env bash
# scripts/bench.sh [SIZES...]   (default: 100000 1000000 10000000)
#
# fenzhang's throughput and latency at each size (number of events), issue 6. Per size:
#   `fenzhang gen --events SIZE --seed $FZ_SEED --streamers $FZ_STREAMERS` into a JSONL file (not timed,
#   kept and reused by later runs with the same parameters), then, timed with date +%s%N and
#   /usr/bin/time -v (wall clock and peak resident set size):
#   (a) append    fresh ledger, `rules publish rules/taobao-live.rules` (not timed), `append FILE`: events/s
#   (b) replay    `replay`: the projection rebuilt from the log, written back: events/s
#   (c) what-if   `replay --rules agency-25.rules` (the default policy with `let agency_share = 25%`,
#                 made from rules/taobao-live.rules here, as tests/spec9_test.cpp does): events/s
#   (d) balance of one streamer account (`balance '@streamer:s1:cps'`) and
#   (e) balance of every account (`balance`), both with --format json to /dev/null, each run
#       $FZ_BALANCE_RUNS times (default 20): median ms, process start and RocksDB open included;
#   (f) the same two queries inside one process (fenzhang-bench-query, built beside the binary): the
#       ledger opened once, 1000 calls for one account and 50 for all: median µs of the query alone.
# SIZE counts the generated events; the ledger also holds the rules.published event.
#
# Environment: FZ_BIN (a fenzhang binary, used as is; default: build the release preset and use
# build/release/tools/fenzhang), FZ_BENCH_DIR (work files, default build/bench/work; 10M events need
# about 2.5 GB for the JSONL file plus the ledger), FZ_SEED (1), FZ_STREAMERS (1000),
# FZ_BALANCE_RUNS (20), FZ_KEEP_LEDGER=1 keeps each size's ledger (default: removed after the size).
# FZ_BENCH_IMPORT_ROWS=N also runs scripts/bench_import.sh N (the import of an N-row order report).
# Results: a table on stdout and key=value lines in build/bench/results/bench-DATE.txt, with the machine.
# The machine's other load shows in the figures: note loadavg in the results file.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

sizes=("$@")
((${#sizes[@]})) || sizes=(100000 1000000 10000000)
for s in "${sizes[@]}"; do
  [[ "$s" =~ ^[1-9][0-9]*$ ]] || { echo "usage: scripts/bench.sh [SIZES...] (positive integers)" >&2; exit 2; }
done
seed=${FZ_SEED:-1}
streamers=${FZ_STREAMERS:-1000}
balance_runs=${FZ_BALANCE_RUNS:-20}
work_root=${FZ_BENCH_DIR:-build/bench/work}
mkdir -p "$work_root" build/bench/results
work_root=$(realpath "$work_root")
results="build/bench/results/bench-$(date -u +%Y%m%dT%H%M%SZ).txt"

scripts/setup.sh
fz_binary

variant="$work_root/agency-25.rules"
sed 's/^let agency_share = 20%$/let agency_share = 25%/' rules/taobao-live.rules >"$variant"
grep -q '^let agency_share = 25%$' "$variant" ||
  { echo "bench: rules/taobao-live.rules has no 'let agency_share = 20%' line to vary" >&2; exit 1; }
"$fz" rules check "$variant" >/dev/null

{
  machine_info
  echo "seed=$seed streamers=$streamers balance_runs=$balance_runs"
} | tee "$results" | sed 's/^/bench: /' >&2

per_s() { awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.0f", n / (ms / 1000) }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

declare -a lines
for size in "${sizes[@]}"; do
  events="$work_root/gen-$size-s$seed-k$streamers.jsonl"
  if [[ ! -s "$events" ]]; then
    echo "bench: generating $size events into $events" >&2
    "$fz" gen --events "$size" --seed "$seed" --streamers "$streamers" >"$events.tmp"
    mv "$events.tmp" "$events"
  fi
  db="$work_root/bench-$size.db"
  rm -rf "$db"
  err_file="$work_root/bench.err"

  "$fz" --db "$db" rules publish rules/taobao-live.rules >/dev/null
  echo "bench: $size: append" >&2
  timed "$fz" --db "$db" --format json append "$events"
  append_ms=$elapsed_ms append_rss=$rss_kb
  echo "size=$size metric=append ms=$append_ms events_per_s=$(per_s "$size" "$append_ms") cpu_ms=$cpu_ms peak_rss_kb=$rss_kb" >>"$results"
  db_size=$(du -sk "$db" | cut -f1)
  echo "size=$size metric=ledger_size kb=$db_size" >>"$results"

  echo "bench: $size: replay" >&2
  timed "$fz" --db "$db" --format json replay
  replay_ms=$elapsed_ms replay_rss=$rss_kb
  echo "size=$size metric=replay ms=$replay_ms events_per_s=$(per_s "$size" "$replay_ms") cpu_ms=$cpu_ms peak_rss_kb=$rss_kb" >>"$results"

  echo "bench: $size: what-if" >&2
  timed "$fz" --db "$db" --format json replay --rules "$variant"
  whatif_ms=$elapsed_ms whatif_rss=$rss_kb
  echo "size=$size metric=whatif ms=$whatif_ms events_per_s=$(per_s "$size" "$whatif_ms") cpu_ms=$cpu_ms peak_rss_kb=$rss_kb" >>"$results"

  echo "bench: $size: balance x $balance_runs" >&2
  one=() all=() one_rss=0 all_rss=0
  for ((i = 0; i < balance_runs; i++)); do
    timed "$fz" --db "$db" --format json balance '@streamer:s1:cps'
    one+=("$elapsed_ms")
    if ((rss_kb > one_rss)); then one_rss=$rss_kb; fi
    timed "$fz" --db "$db" --format json balance
    all+=("$elapsed_ms")
    if ((rss_kb > all_rss)); then all_rss=$rss_kb; fi
  done
  one_ms=$(median "${one[@]}") all_ms=$(median "${all[@]}")
  accounts=$("$fz" --db "$db" --format json balance | grep -o '"account"' | wc -l)
  echo "size=$size metric=balance_one median_ms=$one_ms runs_ms=$(IFS=,; echo "${one[*]}") peak_rss_kb=$one_rss" >>"$results"
  echo "size=$size metric=balance_all accounts=$accounts median_ms=$all_ms runs_ms=$(IFS=,; echo "${all[*]}") peak_rss_kb=$all_rss" >>"$results"
  query_one="-" query_all="-"
  if [[ -n "$fz_query" ]]; then
    echo "bench: $size: balance query in-process" >&2
    q=$("$fz_query" --db "$db" --account '@streamer:s1:cps' --runs 1000)
    echo "size=$size metric=balance_query $(echo $q)" >>"$results"
    query_one=$(sed -n 's/.*balance_one_median_us=\([0-9]*\).*/\1/p' <<<"$q" | head -1)
    query_all=$(sed -n 's/.*balance_all_median_us=\([0-9]*\).*/\1/p' <<<"$q" | head -1)
  fi

  lines+=("$(printf '%11s %12s %12s %12s %10s %10s %10s %10s   %s/%s/%s/%s/%s %s' "$size" \
    "$(per_s "$size" "$append_ms")" "$(per_s "$size" "$replay_ms")" "$(per_s "$size" "$whatif_ms")" \
    "$one_ms" "$all_ms" "$query_one" "$query_all" "$(mb "$append_rss")" "$(mb "$replay_rss")" "$(mb "$whatif_rss")" "$(mb "$one_rss")" \
    "$(mb "$all_rss")" "$(awk -v a="$append_ms" -v r="$replay_ms" -v w="$whatif_ms" \
    'BEGIN { printf "(%.1f s / %.1f s / %.1f s)", a / 1000, r / 1000, w / 1000 }')")")
  [[ "${FZ_KEEP_LEDGER:-0}" == 1 ]] || rm -rf "$db"
done

{
  echo
  echo "fenzhang bench: events/s (append: durable, rules published; replay: projection rebuilt; what-if:"
  echo "agency share 25%), balance medians of $balance_runs runs (one streamer account / all accounts; the command,"
  echo "process start included), the same queries timed in one process (query-1 / q-all, median µs), peak RSS"
  echo "in MB of append/replay/what-if/balance-one/balance-all, and the wall-clock times (append / replay / what-if)"
  echo
  printf '%11s %12s %12s %12s %10s %10s %10s %10s   %s\n' "events" "append ev/s" "replay ev/s" "whatif ev/s" \
    "bal-1 ms" "bal-all ms" "query-1 µs" "q-all µs" "peak RSS MB (times)"
  printf '%s\n' "${lines[@]}"
} | tee -a "$results"
echo "bench: results in $results" >&2

# Issue 14: import throughput on a generated Taobao Union report (scripts/bench_import.sh), when asked.
if [[ -n "${FZ_BENCH_IMPORT_ROWS:-}" ]]; then
  FZ_BIN="$fz" FZ_BENCH_DIR="$work_root" scripts/bench_import.sh "$FZ_BENCH_IMPORT_ROWS" | tee -a "$results"
fi
