#!/usr/bin/env bash
# One-stop set-up for a fresh Debian 12 machine (called by npm start, npm test
# and npm run bench): Debian packages, npm packages, build, hugepages.
# Idempotent and quiet when there is nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# 1. Debian packages: DPDK 22.11 (libs, PMDs, testpmd), dpdk-doc (the examples
#    the bench builds its l3fwd reference from), build tools, scapy and
#    tshark for the packet tests, iproute2 for veth/netns, ethtool (offloads
#    off on test veths), iputils-ping (end-to-end ping test), openssl (test
#    certificates), lua5.3 (luac -p of the bare-metal kit's Pktgen-DPDK script),
#    docker.io and debootstrap (the container tests and bench start their own
#    dockerd and build the image from a locally made Debian base: control/deploy/engine.sh)
#    and git (engine.sh takes the image's build context from git ls-files);
#    clang-14 and libclang-rt-14-dev for the libFuzzer harnesses (scripts/fuzz.sh).
DEBS=(libdpdk-dev libpcap-dev dpdk dpdk-dev dpdk-doc cmake g++ gcc make pkg-config python3-scapy tshark iproute2 procps ethtool iputils-ping openssl lua5.3
  docker.io debootstrap git clang-14 libclang-rt-14-dev)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q >&2
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

# 2. npm packages (lockfile is authoritative).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  npm ci --no-audit --no-fund >&2
fi

# 3. Build everything (incremental).
bash scripts/build.sh

# 4. Hugepages: 2 MiB pages for the dataplane and pktgen (--in-memory: no files).
want=${LINERATE_HUGEPAGES:-2048}  # 4 GiB: a default dataplane (1M routes) takes ~1.4 GiB
have=$(cat /proc/sys/vm/nr_hugepages)
if [ "$have" -lt "$want" ]; then
  log "reserving $want hugepages of 2 MiB"
  echo "$want" | $SUDO tee /proc/sys/vm/nr_hugepages >/dev/null || log "could not reserve hugepages"
fi
# /proc/mounts reads "nodev /dev/hugepages hugetlbfs ...": match the mount point and type,
# or every run stacks one more mount that hides the files of the one below.
if ! grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts; then
  $SUDO mkdir -p /dev/hugepages
  $SUDO mount -t hugetlbfs nodev /dev/hugepages || log "could not mount hugetlbfs"
fi
