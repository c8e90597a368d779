#!/usr/bin/env bash
# Sets up, builds and runs the demo on a fresh ledger in ./demo.db: publish the default policy, append
# a sample of realistic events (every event type, D1-D11 of the SPEC), print the balances on the
# settlement day after them, explain one commission, and verify the ledger.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target fenzhang >/dev/null
fz=build/release/tools/fenzhang
db=demo.db
rm -rf "$db"
run() {
  echo "\$ fenzhang --db $db $*"
  "$fz" --db "$db" "$@"
  echo
}
run rules publish rules/taobao-live.rules
run append examples/taobao-live-sample.jsonl
run --format table balance --at 2026-11-20
run --format table balance --at 2026-12-20
run explain ev-0019
run verify
