#!/usr/bin/env bash
# The containerised benchmark, as a shortcut: the one implementation is
# bench/harness/container.ts, `npm run bench -- --container` (linerate-pktgen
# ⇄ memif ⇄ linerate, both in containers, against the same pair on the bare
# host in interleaved pairs; writes bench/results/container.{json,md}).
# Owned by the bench (README "Containers", bench/README.md).
#
#   flock /tmp/lr-dpdk.lock bash bench/container/run.sh [--pairs N] [--seconds S] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
exec node dist/bench/harness/main.js --container "$@"
