#!/usr/bin/env bash
# Sets up, builds and runs the demo on a fresh ledger in ./demo.db: publish the default policy, append
# a sample of realistic events (every event type, D1-D11 of the SPEC), print the balances on the
# settlement day after them, explain one commission, and verify the ledger. Then the Taobao Union
# reports of examples/tbk (docs/imports.md): import October's order report (rows with an unmapped
# promotion position and a malformed amount are rejected), again from the XLSX (all duplicates),
# reconcile, import the refunds and November's report, and show what the reconciliation says then.
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
# Commands that report differences or rejections exit 1 by design: show the exit code and go on.
run_may_differ() {
  echo "\$ fenzhang --db $db $*"
  local rc=0
  "$fz" --db "$db" "$@" || rc=$?
  echo "(exit $rc)"
  echo
}
run rules publish rules/taobao-live.rules
run append examples/taobao-live-sample.jsonl
run --format table balance --at 2026-11-20
run --format table balance --at 2026-12-20
run explain ev-0019
run verify

# Taobao Union reports (SPEC section 10, docs/imports.md).
run_may_differ import tbk orders examples/tbk/orders-2026-10.csv --map examples/tbk/map.csv
run_may_differ import tbk orders examples/tbk/orders-2026-10.xlsx --map examples/tbk/map.csv
run_may_differ --format table reconcile tbk examples/tbk/orders-2026-10.csv
run import tbk refunds examples/tbk/refunds-2026-11.csv
run import tbk orders examples/tbk/orders-2026-11.csv --map examples/tbk/map.csv
run_may_differ --format table reconcile tbk examples/tbk/orders-2026-11.csv
run --format table balance '@*:cps' --at 2026-12-20
run verify
