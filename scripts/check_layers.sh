#!/usr/bin/env bash
# The include graph's shape (README "Layout"; issue 12): each library includes only the layers below it,
# and only the store talks to RocksDB. Test files (*_test.cpp) may reach up for their fixtures.
#   core -> model -> { store, dsl } -> engine -> tools/server/import/export/report
# Prints every offending line and exits 1 if there is one.
set -u
cd "$(dirname "$0")/.."
status=0
check() {  # check DIR PATTERN WHY
  local hits
  hits=$(grep -rnE --include=*.cpp --include=*.hpp "$2" "$1" | grep -v '_test\.cpp:' || true)
  if [ -n "$hits" ]; then
    echo "$1: $3" >&2
    echo "$hits" >&2
    status=1
  fi
}
check core '#include "(model|store|dsl|engine|tools|server|import|export|report)/' "core includes nothing above it"
check model '#include "(store|dsl|engine|tools|server|import|export|report)/' "model includes only core"
check dsl '#include "(store|engine|tools|server|import|export|report)/' "dsl does not include store/ (nor anything above it)"
check dsl 'rocksdb' "dsl does not use RocksDB"
check store '#include "(dsl|engine|tools|server|import|export|report)/' "store includes only core and model"
check engine '#include "(tools|server|import|export|report)/' "engine includes nothing above it"
# The engine reads and writes the projection through store/projection_store.hpp, never RocksDB itself.
check engine 'rocksdb::|#include <rocksdb/' "the engine does not call RocksDB directly"
exit $status
