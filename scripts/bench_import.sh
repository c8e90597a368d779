#!/usr/bin/env bash
# scripts/bench_import.sh [ROWS]   (default 1000000)
#
# Import throughput (issue 14). Generates a Taobao Union order report of ROWS rows as Excel writes it
# (UTF-16LE with a BOM, tab-separated; statuses 40% paid, 20% received, 30% settled, 10% closed; 50
# shops, 100 promotion positions in the MAP file), not timed and reused by later runs, then measures:
#   (a) parse+map   fenzhang-bench-import: read, decode (iconv), CSV (libcsv), header, mapping and the
#                   events validated by parse_event_line, no ledger: rows/s
#   (b) end to end  a fresh ledger with rules/taobao-live.rules published (not timed), then
#                   `fenzhang import tbk orders REPORT --map MAP`: rows/s and events/s, wall clock and
#                   peak RSS (/usr/bin/time -v)
# Environment: FZ_BIN (default: build the release preset's fenzhang and fenzhang-bench-import),
# FZ_BENCH_DIR (default build/bench/work). Called by scripts/bench.sh when FZ_BENCH_IMPORT_ROWS is set.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
[[ "$rows" =~ ^[1-9][0-9]*$ ]] || { echo "usage: scripts/bench_import.sh [ROWS]" >&2; exit 2; }
if [[ -z "${FZ_BIN:-}" ]]; then
  scripts/setup.sh
  cmake --preset release >/dev/null
  cmake --build build/release --target fenzhang fenzhang-bench-import -j2 >/dev/null
  FZ_BIN=build/release/tools/fenzhang
fi
bench_bin="$(dirname "$FZ_BIN")/fenzhang-bench-import"
work=${FZ_BENCH_DIR:-build/bench/work}
mkdir -p "$work"
report="$work/tbk-orders-$rows.csv"
map="$work/tbk-map.csv"
{
  echo "kind,key,id"
  for i in $(seq 1 100); do echo "pid,mm_1_2_$i,s$i"; done
  for i in $(seq 1 25); do echo "merchant,店铺$i,m$i"; done
} >"$map"
if [[ ! -s "$report" ]]; then
  awk -v rows="$rows" 'BEGIN {
    OFS = "\t"
    print "创建时间", "付款时间", "结算时间", "订单编号", "子订单编号", "商品信息", "掌柜旺旺", "订单状态", "付款金额", "佣金比率", "佣金金额", "推广位ID", "渠道关系ID"
    split("已付款 已付款 已付款 已付款 已收货 已收货 已结算 已结算 已结算 已失效", st, " ")
    split("20.00 9.10 5.50 1.50", rate, " ")
    for (i = 1; i <= rows; i++) {
      s = st[(i % 10) + 1]
      day = 1 + (i % 28); hh = i % 24; mm = i % 60
      paid = sprintf("2026-10-%02d %02d:%02d:%02d", day, hh, mm, i % 60)
      settled = (s == "已结算") ? sprintf("2026-11-%02d 10:00:00", day) : ""
      amount = sprintf("%d.%02d", 1 + (i * 7919) % 5000, i % 100)
      print paid, paid, settled, sprintf("8%08d", i), sprintf("9000%09d", i), "商品" (i % 1000), "店铺" (1 + i % 50), s, amount, rate[1 + i % 4] " %", "", "mm_1_2_" (1 + i % 100), ""
    }
  }' | iconv -f UTF-8 -t UTF-16LE >"$report.tmp"
  { printf '\xff\xfe'; cat "$report.tmp"; } >"$report"
  rm -f "$report.tmp"
fi
echo "report: $report ($(stat -c %s "$report") bytes, $rows rows, UTF-16LE tab-separated)"
echo "== (a) parse+map (no ledger)"
"$bench_bin" "$report" "$map"
echo "== (b) end to end: import tbk orders into a fresh ledger"
db="$work/tbk-import.db"
rm -rf "$db"
"$FZ_BIN" --db "$db" rules publish rules/taobao-live.rules >/dev/null
start=$(date +%s%N)
/usr/bin/time -v "$FZ_BIN" --db "$db" import tbk orders "$report" --map "$map" >"$work/tbk-import.out" 2>"$work/tbk-import.time" || true
end=$(date +%s%N)
tail -n 1 "$work/tbk-import.out"
appended=$(tail -n 1 "$work/tbk-import.out" | sed -E 's/appended ([0-9]+),.*/\1/')
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
rss=$(awk '/Maximum resident set size/ { print $6 }' "$work/tbk-import.time")
echo "import_s=$secs rows_per_s=$(awk -v r="$rows" -v s="$secs" 'BEGIN { printf "%.0f", r / s }') events_per_s=$(awk -v e="$appended" -v s="$secs" 'BEGIN { printf "%.0f", e / s }') peak_rss_kb=$rss loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
rm -rf "$db"
