#!/usr/bin/env bash
# Sets up, builds, and runs the demo: a fresh ledger in ./demo.db fed with the shipped sample events.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target fenzhang >/dev/null
fz=build/release/tools/fenzhang
db=demo.db
rm -rf "$db"
echo "\$ fenzhang --db $db append examples/taobao-live-sample.jsonl"
$fz --db "$db" append examples/taobao-live-sample.jsonl
echo
echo "\$ fenzhang --db $db verify"
$fz --db "$db" verify
