#!/usr/bin/env bash
# scripts/bench_serve.sh [EVENTS_PER_CLIENT_SINGLE] [EVENTS_PER_CLIENT_BULK]   (default 1000 4000)
#
# fenzhang serve under load (issue 16; docs/server.md, docs/performance.md), in one invocation:
#   1. 64 clients posting single events (each waits for its acknowledgement: durable), then the same with
#      256 clients: group commit makes the events per synced batch grow with the clients waiting;
#   2. 64 clients posting 1,000-event bodies, against `fenzhang append` of exactly the same events (written
#      by fenzhang-load --write) into a fresh ledger: the ratio server / CLI;
#   3. 64 clients posting single events while each also asks GET /balances every 20 posts.
# Each ledger starts fresh with rules/taobao-live.rules published; the server's access log goes to a file.
# Prints fenzhang-load's JSON per run (events/s, p50/p99 latency), the disk's fdatasync latency, which
# bounds the single-event runs (clients waiting / time of one synced batch), and the machine's loopback
# ceiling (fenzhang-bench-loopback: round trips/s of an echo server with the same 64 clients). Uses FZ_BIN
# and FZ_LOAD if set, else the release build (built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
single=${1:-1000}
bulk=${2:-4000}
[[ "$single" =~ ^[1-9][0-9]*$ && "$bulk" =~ ^[1-9][0-9]*$ ]] ||
  { echo "usage: scripts/bench_serve.sh [EVENTS_PER_CLIENT_SINGLE] [EVENTS_PER_CLIENT_BULK]" >&2; exit 2; }
fz=${FZ_BIN:-build/release/tools/fenzhang}
load=${FZ_LOAD:-build/release/tools/fenzhang-load}
loopback=$(dirname "$load")/fenzhang-bench-loopback
if [[ -z "${FZ_BIN:-}" && ( ! -x "$fz" || ! -x "$load" || ! -x "$loopback" ) ]]; then
  cmake --preset release >/dev/null &&
    cmake --build --preset release --target fenzhang fenzhang-load fenzhang-bench-loopback >/dev/null
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/fz-bench-serve.XXXXXX")
server_pid=
# shellcheck source=scripts/serve_common.sh
source scripts/serve_common.sh
cleanup() {
  stop_serve || true
  rm -rf "$work"
}
trap cleanup EXIT

fresh() { fresh_ledger "$fz" "$work/$1"; }  # fresh NAME: a new ledger with the default rules
start() { start_serve "$fz" "$work/$1"; }   # start NAME: serve it on an ephemeral port; sets $port
stop() { stop_serve; }

python3 - <<'PY'
import os, time
fd = os.open(os.path.join(os.environ.get("TMPDIR", "/tmp"), "fz-bench-fsync"), os.O_WRONLY | os.O_CREAT)
t = time.time()
for _ in range(100):
    os.write(fd, b"x" * 4096)
    os.fdatasync(fd)
print(f"fdatasync of this disk: {(time.time() - t) * 10:.2f} ms")
os.unlink(os.path.join(os.environ.get("TMPDIR", "/tmp"), "fz-bench-fsync"))
PY

echo "load average $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
# The ceiling: 64 clients against an echo server on the loopback (no HTTP, no ledger, no disk), with as
# many server threads as serve has I/O threads; the single-event runs below are a fraction of it.
if [[ -x "$loopback" ]]; then
  echo "loopback ceiling (echo server, 64 clients):"
  "$loopback" --clients 64 --server-threads 2
fi
for clients in 64 256; do
  fresh single-$clients
  start single-$clients
  echo "single events, $clients clients:"
  "$load" --connect "127.0.0.1:$port" --clients "$clients" --events-per-client "$single" --per-request 1
  echo "  server: $(curl -s "127.0.0.1:$port/health" 2>/dev/null || echo)"
  stop
done

fresh bulk
start bulk
echo "1,000-event bodies, 64 clients:"
"$load" --connect "127.0.0.1:$port" --clients 64 --events-per-client "$bulk" --per-request 1000 | tee "$work/bulk.json"
stop
"$load" --write "$work/bulk.jsonl" --clients 64 --events-per-client "$bulk"
fresh cli
c0=$(date +%s%N)
"$fz" --db "$work/cli" --format json append "$work/bulk.jsonl" >/dev/null
c1=$(date +%s%N)
lines=$(wc -l <"$work/bulk.jsonl")
cli_rate=$(( lines * 1000000000 / (c1 - c0) ))
server_rate=$(python3 -c "import json,sys; print(int(json.load(open(sys.argv[1]))['events_per_second']))" "$work/bulk.json")
echo "fenzhang append of the same $lines events: $cli_rate events/s"
echo "server / CLI: $(python3 -c "print(f'{$server_rate / $cli_rate * 100:.0f}%')")"

fresh mixed
start mixed
echo "single events with GET /balances every 20 posts, 64 clients:"
"$load" --connect "127.0.0.1:$port" --clients 64 --events-per-client "$single" --per-request 1 --query-every 20
stop
