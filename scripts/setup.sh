#!/usr/bin/env bash
# Installs fenzhang's build dependencies from Debian 12's packages, only those missing.
# Idempotent and quiet when everything is already there. Used by scripts/demo.sh and scripts/test.sh.
#
#   scripts/setup.sh           the build dependencies (and `time`, for scripts/bench.sh)
#   scripts/setup.sh --bench   also the tools scripts/compare.sh measures fenzhang against: sqlite3,
#                              hledger, ledger (ledger-cli) and python3; the test path does not need them
set -euo pipefail

bench=0
case "${1:-}" in
  "") ;;
  --bench) bench=1 ;;
  *) echo "usage: scripts/setup.sh [--bench]" >&2; exit 2 ;;
esac

packages=(
  build-essential cmake g++ ccache
  libboost1.81-dev libboost-json1.81-dev
  librocksdb-dev libfmt-dev doctest-dev libcli11-dev libssl-dev libjemalloc-dev
  libcsv-dev libzip-dev libexpat1-dev pkgconf zlib1g-dev
  chromium
  # export_test runs bean-check on `export beancount` with Debian's /usr/bin/python3 (issue 15)
  python3-beancount
  clang libclang-rt-14-dev
  time
)
if ((bench)); then
  packages+=(sqlite3 hledger ledger)
  # python3 may come from elsewhere (pyenv); only the Debian package when there is none at all
  command -v python3 >/dev/null || packages+=(python3)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
