#!/usr/bin/env bash
# Builds DPDK's l3fwd example (Debian's dpdk-doc) into build/l3fwd as a
# reference forwarder for the bench harness. The source is copied, never
# committed; build-time patches:
#  - memif offers no RX checksum offload, and l3fwd requests it
#    unconditionally (rte_eth_dev_configure fails): request none; l3fwd's
#    LPM path does not verify IPv4 checksums in software either way;
#  - it waits up to 9 s for every link before forwarding, and a memif
#    server's link is down until the generator connects: wait 0.1 s;
#  - -march=native, as linerate-dp is built, so the comparison is fair.
# Prints the binary's path; exits non-zero (and prints why) if it cannot.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=/usr/share/dpdk/examples
out=build/l3fwd
bin=$out/l3fwd/build/l3fwd-shared

if [ ! -f "$src/l3fwd/main.c" ]; then
  echo "no $src/l3fwd (apt-get install dpdk-doc)" >&2
  exit 1
fi
if [ -x "$bin" ] && [ "$bin" -nt "$src/l3fwd/main.c" ] && [ "$bin" -nt "$0" ]; then
  echo "$bin"
  exit 0
fi
rm -rf "$out"
mkdir -p "$out"
cp -r "$src/l3fwd" "$src/common" "$out/"
sed -i 's/\.offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,/.offloads = 0,/' "$out/l3fwd/main.c"
sed -i 's/^#define MAX_CHECK_TIME 90 .*/#define MAX_CHECK_TIME 1/' "$out/l3fwd/main.c"
if grep -q 'RTE_ETH_RX_OFFLOAD_CHECKSUM' "$out/l3fwd/main.c" || ! grep -q '^#define MAX_CHECK_TIME 1$' "$out/l3fwd/main.c"; then
  echo "l3fwd patches did not apply" >&2
  exit 1
fi
sed -i 's/^CFLAGS += -I..\/common$/CFLAGS += -I..\/common -march=native/' "$out/l3fwd/Makefile"
make -C "$out/l3fwd" -j 2 shared >"$out/build.log" 2>&1 || { tail -20 "$out/build.log" >&2; exit 1; }
echo "$bin"
