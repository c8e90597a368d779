# Sourced by scripts/bench_serve.sh and scripts/bench_serve_ab.sh: a fenzhang serve on an ephemeral port
# of 127.0.0.1 over a fresh ledger. Sets server_pid and port; the caller's EXIT trap calls stop_serve.

fresh_ledger() {  # fresh_ledger BIN DB: a new ledger with the default rules
  rm -rf "$2"
  "$1" --db "$2" rules publish rules/taobao-live.rules >/dev/null
}

start_serve() {  # start_serve BIN DB: serve DB (access log DB.access.log, output DB.out); sets $port
  rm -f "$2.out"
  "$1" --db "$2" serve --listen 127.0.0.1:0 --access-log "$2.access.log" >"$2.out" &
  server_pid=$!
  for _ in $(seq 100); do
    grep -q '^listening on' "$2.out" 2>/dev/null && break
    sleep 0.1
  done
  port=$(sed -n 's/^listening on .*://p' "$2.out")
  [[ -n "$port" ]] || { echo "serve did not start" >&2; exit 1; }
}

stop_serve() {  # SIGTERM (a clean drain), wait, and return serve's exit status; 0 when none runs
  local pid=${server_pid:-} rc=0
  server_pid=
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || rc=$?
  return "$rc"
}
