# shellcheck shell=bash disable=SC2034  # sets globals (fz, elapsed_ms, cpu_ms, rss_kb) for its callers
# Shared by scripts/bench.sh and scripts/compare.sh (sourced, not run). Expects to be in the repository root.

# The fenzhang binary: $FZ_BIN if set (used as is, nothing is built), else the release preset's build,
# configured and built here.
fz_binary() {
  if [[ -n "${FZ_BIN:-}" ]]; then
    [[ -x "$FZ_BIN" ]] || { echo "FZ_BIN=$FZ_BIN is not an executable" >&2; exit 2; }
    fz="$FZ_BIN"
  else
    cmake --preset release >/dev/null
    cmake --build --preset release --target fenzhang fenzhang-bench-query >/dev/null
    fz=build/release/tools/fenzhang
  fi
  fz=$(realpath "$fz")
  # The in-process balance timer built beside it (tools/bench_query.cpp); empty when there is none.
  fz_query="$(dirname "$fz")/fenzhang-bench-query"
  [[ -x "$fz_query" ]] || fz_query=""
}

now_ns() { date +%s%N; }

# ms between two now_ns readings, three decimals.
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e6 }'; }

# The median of the numbers given as arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Runs a command under /usr/bin/time -v. Sets elapsed_ms (wall clock, from date +%s%N around it),
# cpu_ms (user + system CPU time of the command and its threads, 10 ms resolution; less disturbed than
# the wall clock when other jobs share the cores) and rss_kb (peak resident set size). Standard output goes to $out_file (default /dev/null); the command's
# standard error to $err_file. Exits the script when the command fails.
timed() {
  local tv t0 t1
  tv=$(mktemp)
  t0=$(now_ns)
  if ! /usr/bin/time -v -o "$tv" "$@" >"${out_file:-/dev/null}" 2>"${err_file:-/dev/null}"; then
    echo "failed: $*" >&2
    [[ -n "${err_file:-}" ]] && tail -5 "$err_file" >&2
    rm -f "$tv"
    exit 1
  fi
  t1=$(now_ns)
  elapsed_ms=$(ms_between "$t0" "$t1")
  rss_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tv")
  cpu_ms=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.0f", s * 1000 }' "$tv")
  rm -f "$tv"
}

# The machine and the binary, as key=value lines.
machine_info() {
  local commit dirty
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  dirty=""
  if git status --porcelain --untracked-files=no 2>/dev/null | grep -q .; then dirty=" (working tree modified)"; fi
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "repo_commit=$commit$dirty"
  echo "binary=$fz (built $(date -u -r "$fz" +%Y-%m-%dT%H:%M:%SZ))"
  echo "nproc=$(nproc)"
  echo "cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
    "$(awk -F': ' '/^cpu MHz/ { printf "%.0f MHz", $2; exit }' /proc/cpuinfo)," \
    "cache $(awk -F': ' '/^cache size/ { print $2; exit }' /proc/cpuinfo)"
  echo "memory=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "kernel=$(uname -sr)"
  echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "disk_free=$(df -h --output=avail,target "${work_root:-.}" | tail -1 | awk '{ print $1 " on " $2 }')"
}
