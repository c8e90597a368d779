#!/usr/bin/env bash
# scripts/compare.sh [N_ORDERS]   (default 100000)
#
# The same orders through fenzhang, SQLite, hledger and ledger-cli (issues 6 and 12), each computing or summing
# the CPS split itself, then a check that all of them give the same per-account totals to the fen.
#
#   1. `fenzhang gen` writes a stream; bench/compare_export.py keeps its first N_ORDERS orders and what
#      they depend on (contracts, first signings, plans, applications; no V-tasks, withdrawals or agency
#      moves) and writes: the events for fenzhang, the same facts as CSV for SQLite, and a journal with
#      the split postings written out for hledger and ledger-cli. NOT TIMED: the journal writing is done
#      here by Python; hledger and ledger-cli are timed only for reading it and summing it.
#   2. Timed, each FZ_RUNS times (default 3), the median reported:
#      fenzhang  fresh ledger, `rules publish rules/taobao-live.rules`, `append events.jsonl`,
#                `balance` of every account (end to end; each step is also reported);
#      SQLite    `sqlite3 fresh.sqlite < bench/compare_sqlite.sql`: import the CSVs and compute
#                eligibility, commission and split into per-account totals in SQL, one transaction;
#      hledger   `hledger -f journal.ledger balance --flat --no-total -O csv`;
#      ledger    `ledger -f journal.ledger balance --flat --no-total`.
#   3. Every tool's non-zero per-account totals must equal the others' to the fen (exit 1 otherwise).
#      All accounts are compared, not only those whose amounts split evenly: the CPS rule's rounding
#      (commission round half away from zero, then the agency's 20% by largest remainder, which with
#      two shares is round half up) is done in exact integer arithmetic by Python, by SQL and by fenzhang.
#
# Environment: FZ_BIN (a fenzhang binary; default: build the release preset and use
# build/release/tools/fenzhang), FZ_BENCH_DIR (work files, default build/bench/work), FZ_SEED (1),
# FZ_STREAMERS (1000), FZ_RUNS (3). Needs python3 (standard library), sqlite3, hledger, ledger and
# /usr/bin/time: `scripts/setup.sh --bench` installs the missing ones (it is run here).
# Results: a table on stdout and key=value lines in build/bench/results/compare-N-DATE.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

n=${1:-100000}
[[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "usage: scripts/compare.sh [N_ORDERS]" >&2; exit 2; }
seed=${FZ_SEED:-1}
streamers=${FZ_STREAMERS:-1000}
runs=${FZ_RUNS:-3}
repo=$(pwd)
work_root=${FZ_BENCH_DIR:-build/bench/work}
work="$work_root/compare-$n"
mkdir -p "$work" build/bench/results
work=$(realpath "$work")
results="build/bench/results/compare-$n-$(date -u +%Y%m%dT%H%M%SZ).txt"

scripts/setup.sh --bench
fz_binary

# --- 1. the inputs (not timed) ----------------------------------------------------------------------
# About half of the generated events are order.paid; 2.5 events per order leave room for the follow-ups.
events=$((n * 5 / 2 + 20 * streamers))
echo "compare: generating $events events (seed $seed, $streamers streamers), keeping $n orders in $work" >&2
"$fz" gen --events "$events" --seed "$seed" --streamers "$streamers" >"$work/gen.jsonl"
python3 bench/compare_export.py "$work/gen.jsonl" "$n" "$work/in"
rm -f "$work/gen.jsonl"
in="$work/in"
fz_events=$(awk '$1 == "events" { print $2 }' "$in/summary.txt")

{
  machine_info
  echo "n_orders=$n seed=$seed streamers=$streamers runs=$runs"
  sed 's/^/input_/; s/ /=/' "$in/summary.txt"
} >"$results"

# --- 2. the timed runs --------------------------------------------------------------------------------
t_fz=() t_fz_publish=() t_fz_append=() t_fz_balance=() t_sqlite=() t_hledger=() t_ledger=()
c_fz=() c_fz_append=() c_fz_balance=() c_sqlite=() c_hledger=() c_ledger=()
declare -A rss
for ((r = 0; r < runs; r++)); do
  echo "compare: run $((r + 1)) of $runs" >&2
  # fenzhang, end to end: the sum of the three commands' wall-clock times
  db="$work/fz.db"
  rm -rf "$db"
  err_file="$work/fz.err"
  timed "$fz" --db "$db" rules publish rules/taobao-live.rules
  t_fz_publish[r]=$elapsed_ms
  c_fz[r]=$cpu_ms
  timed "$fz" --db "$db" --format json append "$in/events.jsonl"
  t_fz_append[r]=$elapsed_ms
  c_fz_append[r]=$cpu_ms
  c_fz[r]=$((c_fz[r] + cpu_ms))
  rss[fz_append]=$rss_kb
  out_file="$work/fz.json" timed "$fz" --db "$db" --format json balance
  t_fz_balance[r]=$elapsed_ms
  c_fz_balance[r]=$cpu_ms
  c_fz[r]=$((c_fz[r] + cpu_ms))
  rss[fz_balance]=$rss_kb
  t_fz[r]=$(awk -v a="${t_fz_publish[r]}" -v b="${t_fz_append[r]}" -v c="${t_fz_balance[r]}" \
    'BEGIN { printf "%.3f", a + b + c }')

  # SQLite, one transaction, a fresh database file; the script imports the CSVs from its directory
  rm -f "$work/cmp.sqlite"
  pushd "$in" >/dev/null
  out_file="$work/sqlite.tsv" err_file="$work/sqlite.err" \
    timed sqlite3 -bail "$work/cmp.sqlite" ".read $repo/bench/compare_sqlite.sql"
  popd >/dev/null
  t_sqlite[r]=$elapsed_ms
  c_sqlite[r]=$cpu_ms
  rss[sqlite]=$rss_kb

  out_file="$work/hledger.csv" err_file="$work/hledger.err" \
    timed hledger -f "$in/journal.ledger" balance --flat --no-total -O csv
  t_hledger[r]=$elapsed_ms
  c_hledger[r]=$cpu_ms
  rss[hledger]=$rss_kb

  out_file="$work/ledger.tsv" err_file="$work/ledger.err" \
    timed ledger -f "$in/journal.ledger" balance --flat --no-total \
    --balance-format '%(account)\t%(quantity(display_total))\n'
  t_ledger[r]=$elapsed_ms
  c_ledger[r]=$cpu_ms
  rss[ledger]=$rss_kb
done

# --- 3. the check (not timed) -------------------------------------------------------------------------
python3 - "$work" "$in/expected.tsv" <<'EOF'
import csv, json, sys
work, expected = sys.argv[1], sys.argv[2]

def fen(s):
    s = s.replace(",", "").strip()
    neg = s.startswith("-")
    whole, _, dec = s.lstrip("-").partition(".")
    assert len(dec) <= 2, s
    v = int(whole or 0) * 100 + int(dec.ljust(2, "0") or 0)
    return -v if neg else v

def nonzero(d):
    return {k: v for k, v in d.items() if v}

tools = {}
tools["python (journal writer)"] = {a: int(v) for a, v in (l.rstrip("\n").split("\t") for l in open(expected))}
tools["fenzhang"] = {a["account"]: fen(a["total"]) for a in json.load(open(f"{work}/fz.json"))["accounts"]}
tools["sqlite"] = {a: int(v) for a, v in (l.rstrip("\n").split("\t") for l in open(f"{work}/sqlite.tsv"))}
rows = list(csv.reader(open(f"{work}/hledger.csv")))[1:]
tools["hledger"] = {"@" + a: fen(v) for a, v in rows}
tools["ledger"] = {"@" + a: fen(v) for a, v in (l.rstrip("\n").split("\t") for l in open(f"{work}/ledger.tsv") if l.strip())}
tools = {k: nonzero(v) for k, v in tools.items()}
ref = tools["fenzhang"]
ok = True
for name, got in tools.items():
    if got != ref:
        ok = False
        bad = sorted(a for a in set(got) | set(ref) if got.get(a) != ref.get(a))
        print(f"compare: {name} differs from fenzhang on {len(bad)} accounts, e.g. " +
              ", ".join(f"{a}: {got.get(a)} vs {ref.get(a)}" for a in bad[:5]), file=sys.stderr)
total = sum(ref.values())
print(f"check: {len(ref)} accounts, {'all tools agree to the fen' if ok else 'MISMATCH'}; "
      f"sum of all totals {total} fen (must be 0)")
sys.exit(0 if ok and total == 0 else 1)
EOF

# --- 4. the report ------------------------------------------------------------------------------------
fz_med=$(median "${t_fz[@]}")
fz_cpu=$(median "${c_fz[@]}")
row() { # name median_ms median_cpu_ms rss_kb
  printf '%-36s %9.3f %14s %9.3f %10s %12.1f\n' "$1" "$(awk -v m="$2" 'BEGIN { print m / 1000 }')" \
    "$(awk -v m="$2" -v f="$fz_med" 'BEGIN { printf "%.2f", m / f }')" "$(awk -v m="$3" 'BEGIN { print m / 1000 }')" \
    "$(awk -v m="$3" -v f="$fz_cpu" 'BEGIN { printf "%.2f", m / f }')" "$(awk -v k="$4" 'BEGIN { print k / 1024 }')"
}
target() { # name tool_ms factor (on the wall-clock medians)
  awk -v name="$1" -v t="$2" -v f="$fz_med" -v k="$3" 'BEGIN {
    printf "target %-30s %-7s (wall: fenzhang %.3f s, needs <= %.3f s)\n", name, (f * k <= t ? "met" : "NOT met"), f / 1000, t / k / 1000 }'
}
{
  printf '\nfenzhang vs SQLite, hledger, ledger-cli: %s orders (%s events for fenzhang), median of %s runs\n' \
    "$n" "$fz_events" "$runs"
  printf 'tool/fenzhang > 1 means fenzhang is faster; machine: %s cores, %s; load average %s\n' "$(nproc)" \
    "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'wall: elapsed time; CPU: user + system time (less disturbed by other jobs on the cores)\n\n'
  printf '%-36s %9s %14s %9s %10s %12s\n' "tool" "wall s" "wall ratio" "CPU s" "CPU ratio" "peak RSS MB"
  row "fenzhang (publish + append + balance)" "$fz_med" "$fz_cpu" "${rss[fz_append]}"
  row "  fenzhang append" "$(median "${t_fz_append[@]}")" "$(median "${c_fz_append[@]}")" "${rss[fz_append]}"
  row "  fenzhang balance (all accounts)" "$(median "${t_fz_balance[@]}")" "$(median "${c_fz_balance[@]}")" \
    "${rss[fz_balance]}"
  row "SQLite (import + split in SQL)" "$(median "${t_sqlite[@]}")" "$(median "${c_sqlite[@]}")" "${rss[sqlite]}"
  row "hledger balance" "$(median "${t_hledger[@]}")" "$(median "${c_hledger[@]}")" "${rss[hledger]}"
  row "ledger balance" "$(median "${t_ledger[@]}")" "$(median "${c_ledger[@]}")" "${rss[ledger]}"
  echo
  target "faster than SQLite:" "$(median "${t_sqlite[@]}")" 1
  target ">= 10x faster than hledger:" "$(median "${t_hledger[@]}")" 10
  target ">= 3x faster than ledger-cli:" "$(median "${t_ledger[@]}")" 3  # issue 12 (issue 6 asked 2x)
} | tee -a "$results"

record() { # name, wall array name, CPU array name
  local -n wall=$2 cpu=$3
  echo "tool=$1 wall_runs_ms=$(IFS=,; echo "${wall[*]}") wall_median_ms=$(median "${wall[@]}")" \
    "cpu_runs_ms=$(IFS=,; echo "${cpu[*]}") cpu_median_ms=$(median "${cpu[@]}")"
}
{
  record fenzhang_end_to_end t_fz c_fz
  echo "tool=fenzhang_publish wall_runs_ms=$(IFS=,; echo "${t_fz_publish[*]}") wall_median_ms=$(median "${t_fz_publish[@]}")"
  record fenzhang_append t_fz_append c_fz_append
  record fenzhang_balance t_fz_balance c_fz_balance
  record sqlite t_sqlite c_sqlite
  record hledger t_hledger c_hledger
  record ledger t_ledger c_ledger
  for k in "${!rss[@]}"; do echo "peak_rss_kb_$k=${rss[$k]}"; done
} >>"$results"
echo "compare: results in $results" >&2
