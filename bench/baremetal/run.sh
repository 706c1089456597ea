#!/usr/bin/env bash
# The bare-metal bench kit of linerate, end to end (bench/README.md "Bare
# metal"): bind the ports, start `linerate serve`, run Pktgen-DPDK through
# its tools/run.py with linerate-rfc2544.lua, then join the generator's
# trials with linerate's own counters into the CSVs (report.ts) and stop
# what it started. Written for operators judging linerate with Pktgen-DPDK.
#
#   bench/baremetal/run.sh nic     two-port NIC: linerate-2port.cfg + linerate.yaml
#   bench/baremetal/run.sh memif   rehearsal on one machine: linerate-memif.{cfg,yaml}
#
# Environment: PKTGEN_DIR (Pktgen-DPDK tree, built; required), OUT (results
# directory; default bench/baremetal/out/MODE-DATE), LINERATE_CONFIG (the
# linerate config), LINERATE_ADDR (a linerate already running, e.g. on a
# remote DUT: not started, not bound here), and the LR_* settings of the Lua
# script (LR_SIZES, LR_TRIAL_MS, LR_PRECISION, LR_LINK_GBPS, ...), LR_PCI0 /
# LR_PCI1 (generator ports, nic mode).
set -euo pipefail
mode=${1:-}
case "$mode" in
  nic) cfg=linerate-2port; yaml=linerate.yaml ;;
  memif) cfg=linerate-memif; yaml=linerate-memif.yaml ;;
  *) echo "usage: $0 nic|memif   (see bench/README.md, Bare metal)" >&2; exit 2 ;;
esac
kit=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$kit/../.." && pwd)
cli=(node "$root/dist/control/src/cli/main.js")
: "${PKTGEN_DIR:?set PKTGEN_DIR to a built Pktgen-DPDK tree (bench/README.md)}"
PKTGEN_DIR=$(cd "$PKTGEN_DIR" && pwd)
config=${LINERATE_CONFIG:-$kit/$yaml}
OUT=${OUT:-$kit/out/$mode-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
log() { echo "run.sh: $*" >&2; }

[ -x "$PKTGEN_DIR/build/app/pktgen" ] || [ -x /usr/local/bin/pktgen ] \
  || { log "no pktgen in $PKTGEN_DIR/build/app or /usr/local/bin: build it first (bench/README.md)"; exit 1; }
[ -f "$root/dist/bench/baremetal/report.js" ] || { log "linerate is not built: run npm run build"; exit 1; }

# tools/run.py takes a config name and looks only in ./cfg of Pktgen-DPDK's tree.
cp "$kit/$cfg.cfg" "$PKTGEN_DIR/cfg/$cfg.cfg"
# run.py removes cfg/__pycache__ after loading a cfg, and fails when Python
# wrote none (PYTHONDONTWRITEBYTECODE): give it one to remove.
mkdir -p "$PKTGEN_DIR/cfg/__pycache__"
export LR_KIT=$kit LR_OUT=$OUT LR_SOCK_DIR=${LR_SOCK_DIR:-/run/linerate-kit}
# memif reports a 100 Gbit/s link, which one generator core is far from: search
# the first 5 % of it (7.4 Mpps at 64 B) unless told otherwise.
[ "$mode" = memif ] && export LR_MAX_PCT=${LR_MAX_PCT:-5}
# run.py's bind step finds dpdk-devbind.py in /usr/local/bin or $RTE_SDK/bin;
# Debian's is /usr/bin/dpdk-devbind.py.
export RTE_SDK=${RTE_SDK:-/usr}

serve_pid=
cleanup() {
  if [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then
    log "stopping linerate serve (pid $serve_pid) and its dataplane"
    kill -TERM "$serve_pid"
    wait "$serve_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$mode" = nic ]; then
  log "binding the generator ports (tools/run.py -s $cfg)"
  (cd "$PKTGEN_DIR" && ./tools/run.py -s "$cfg")
  mkdir -p "$PKTGEN_DIR/cfg/__pycache__"
fi

if [ -z "${LINERATE_ADDR:-}" ]; then
  # line 1: the gRPC address; then the PCI devices of linerate's ports
  mapfile -t dut < <(node -e "const c = require(process.argv[1]).loadConfigFile(process.argv[2]);
    console.log(c.grpc.listen); for (const p of c.ports) if (/^[0-9a-f]{4}:/i.test(p.device)) console.log(p.device);" \
    "$root/dist/control/src/config/schema.js" "$config")
  addr=${dut[0]:?cannot read $config}
  if [ "$mode" = nic ] && [ ${#dut[@]} -gt 1 ]; then
    log "binding linerate's ports to vfio-pci: ${dut[*]:1}"
    dpdk-devbind.py -b vfio-pci "${dut[@]:1}"
  fi
  [ "$mode" = memif ] && mkdir -p "$LR_SOCK_DIR"
  export LINERATE_ADDR=$addr
  log "starting linerate serve --config $config (gRPC $addr), log $OUT/serve.log"
  "${cli[@]}" serve --config "$config" --state-dir "$OUT/state" --stop-dataplane > "$OUT/serve.log" 2>&1 &
  serve_pid=$!
  for _ in $(seq 1 120); do
    "${cli[@]}" dataplane status --json 2>/dev/null | grep -q '"attached": true' && break
    kill -0 "$serve_pid" 2>/dev/null || { log "linerate serve exited:"; tail -20 "$OUT/serve.log" >&2; exit 1; }
    if grep -q 'dataplane attach failed' "$OUT/serve.log"; then
      log "the dataplane did not start: $(grep -m1 -o '"err":"[^"]*' "$OUT/serve.log" | cut -c8- | head -c 2000)"
      exit 1
    fi
    sleep 0.5
  done
  "${cli[@]}" dataplane status --json | grep -q '"attached": true' || { log "linerate did not attach"; exit 1; }
fi
export LR_CLI="${cli[*]}"
"${cli[@]}" port list --json > "$OUT/linerate-ports.json"

log "running Pktgen-DPDK (tools/run.py $cfg), console in $OUT/pktgen.log"
rm -f "$OUT/lua-done"
# Pktgen-DPDK wants a terminal: give it one when there is none.
run=(./tools/run.py "$cfg")
if [ -t 0 ]; then
  (cd "$PKTGEN_DIR" && "${run[@]}") 2>&1 | tee "$OUT/pktgen.log"
else
  (cd "$PKTGEN_DIR" && script -qefc "${run[*]}" /dev/null < /dev/null) > "$OUT/pktgen.log" 2>&1 || true
fi
stty sane 2>/dev/null || true
# Pktgen-DPDK runs without --in-memory: its hugepage files and runtime dir stay
prefix=$(sed -n "s/^ *'prefix': '\([^']*\)'.*/\1/p" "$kit/$cfg.cfg")
[ -n "$prefix" ] && rm -rf /dev/hugepages/"$prefix"map_* /var/run/dpdk/"$prefix"
if ! grep -q '^ok' "$OUT/lua-done" 2>/dev/null; then
  log "the Lua script did not finish: $(cat "$OUT/lua-done" 2>/dev/null || echo 'no lua-done file'); see $OUT/pktgen.log"
  exit 1
fi
"${cli[@]}" stats --json > "$OUT/linerate-stats-final.json"
node "$root/dist/bench/baremetal/report.js" "$OUT" > /dev/null
log "results: $OUT/linerate-rfc2544.csv (per frame size), $OUT/linerate-rfc2544-trials.csv (per trial)"
cat "$OUT/linerate-rfc2544.csv"
