#!/usr/bin/env bash
# Installs fenzhang's build dependencies from Debian 12's packages, only those missing.
# Idempotent and quiet when everything is already there. Used by scripts/demo.sh and scripts/test.sh.
set -euo pipefail

packages=(
  build-essential cmake g++
  libboost1.81-dev libboost-json1.81-dev
  librocksdb-dev libfmt-dev doctest-dev libcli11-dev libssl-dev
  clang libclang-rt-14-dev
)

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
