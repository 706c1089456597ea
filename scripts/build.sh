#!/usr/bin/env bash
# Builds the dataplane + pktgen (cmake), the addon (cmake-js), the API
# types generated from proto/ and the TypeScript (tsc). Incremental; set
# LINERATE_BUILD_TYPE=Debug for -O0 -g, LINERATE_SANITIZE=1 for a dataplane
# (linerate-dp, its tests, pktgen) built with ASan + UBSan (the next build
# without it rebuilds the plain one).
set -euo pipefail
cd "$(dirname "$0")/.."
type=${LINERATE_BUILD_TYPE:-Release}
jobs=$(nproc)

san=OFF
[ "${LINERATE_SANITIZE:-0}" = 1 ] && san=ON
cmake -S . -B build/dp -DCMAKE_BUILD_TYPE="$type" -DLINERATE_SANITIZE="$san" >/dev/null
cmake --build build/dp -j "$jobs" >&2

npx --no-install cmake-js compile -O build/addon --config "$type" >/dev/null \
  || npx --no-install cmake-js compile -O build/addon --config "$type" >&2

# API types from proto/ into control/src/gen (git-ignored), which tsc compiles.
bash scripts/gen-types.sh
npx --no-install tsc -p .
