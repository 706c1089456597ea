#!/usr/bin/env bash
# The lab's two kernel-interface PMDs against each other (issue 12): linerate
# forwarding between two veth pairs with its ports on net_af_xdp, against the
# same on net_af_packet, in the same run. Each side has its own two veth
# pairs and its own `linerate serve`; the generator (linerate-pktgen, always
# on net_af_packet at the other veth ends, so it is the same for both) runs
# closed loop (--retry) for S seconds; trials alternate in pairs (packet,
# xdp, xdp, packet, ...) and the side not measured is paused (SIGSTOP).
# Prints one JSON line per trial (Mpps received back, linerate's cycles per
# packet from its own counters) and a summary: medians and the median of
# the per-pair ratios af_xdp / af_packet.
#
#   flock /tmp/lr-dpdk.lock bash bench/veth/pmd.sh [--pairs N] [--seconds S] [--size B]
#
# Forwarders: main lcore on CPU 0, worker on CPU 1; the generator on CPU 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
PAIRS=3
SECS=5
SIZE=64
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) PAIRS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    *) echo "usage: $0 [--pairs N] [--seconds S] [--size B]" >&2; exit 2 ;;
  esac
done
TAG="lrv$$"
WORK=$(mktemp -d "/tmp/$TAG-XXXX")
CLI=(node dist/control/src/cli/main.js)
declare -A SERVE_PID=() PORT=()
log() { printf '[pmd-bench] %s\n' "$*" >&2; }

ifname() { echo "${TAG}${1}${2}${3}"; }  # side(p|x) index end(a|b): lrv<pid><side><i><a|b>, < IFNAMSIZ
cleanup() {
  set +e
  for s in p x; do
    pid=${SERVE_PID[$s]:-}
    if [ -n "$pid" ]; then
      dp=$(cat "$WORK/$s/run/dataplane.pid" 2>/dev/null)
      kill -CONT "$pid" ${dp:+"$dp"} 2>/dev/null
      kill -TERM "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
    for i in 0 1; do ip link del "$(ifname $s $i a)" 2>/dev/null; done
    rm -rf "/var/run/dpdk/linerate-$TAG-$s"
  done
  rm -rf "$WORK" "/var/run/dpdk/$TAG-gen"
}
trap cleanup EXIT

mac() { cat "/sys/class/net/$1/address"; }
for s in p x; do
  for i in 0 1; do
    a=$(ifname $s $i a); b=$(ifname $s $i b)
    ip link add "$a" type veth peer name "$b"
    for d in "$a" "$b"; do
      ip link set "$d" up
      ethtool -K "$d" tx off rx off >/dev/null 2>&1 || true
      sysctl -qw "net.ipv6.conf.$d.disable_ipv6=1" || true
    done
  done
done

config() { # side pmd port
  local s=$1 pmd=$2 p0 p1
  if [ "$pmd" = af_xdp ]; then
    p0="net_af_xdp0,iface=$(ifname "$s" 0 a),start_queue=0,queue_count=1"
    p1="net_af_xdp1,iface=$(ifname "$s" 1 a),start_queue=0,queue_count=1"
  else
    p0="net_af_packet0,iface=$(ifname "$s" 0 a),qpairs=1"
    p1="net_af_packet1,iface=$(ifname "$s" 1 a),qpairs=1"
  fi
  cat <<EOF
name: $TAG-$s
grpc: {listen: "127.0.0.1:$3"}
stateDir: $WORK/$s/state
runDir: $WORK/$s/run
metrics: {enabled: false}
dataplane:
  eal: ["--lcores", "0@0,1@1"]
  idleSleepUs: 0
  routes4: 65536
  routes6: 4096
  neighbors: 1024
ports:
  - {name: p0, device: "$p0", addresses: [192.168.0.1/24]}
  - {name: p1, device: "$p1", addresses: [192.168.1.1/24]}
routes:
  - {prefix: 10.1.0.0/16, via: 192.168.1.2, port: p1}
neighbors:
  - {address: 192.168.0.2, mac: "$(mac "$(ifname "$s" 0 b)")", port: p0}
  - {address: 192.168.1.2, mac: "$(mac "$(ifname "$s" 1 b)")", port: p1}
EOF
}
base=$((43000 + $$ % 8000))
PORT[p]=$base
PORT[x]=$((base + 1))
for s in p x; do
  pmd=af_packet; [ $s = x ] && pmd=af_xdp
  mkdir -p "$WORK/$s"
  config $s $pmd "${PORT[$s]}" >"$WORK/$s/linerate.yaml"
  "${CLI[@]}" serve --config "$WORK/$s/linerate.yaml" --stop-dataplane >"$WORK/$s/serve.log" 2>&1 &
  SERVE_PID[$s]=$!
done
wait_attached() { # side
  for _ in $(seq 1 240); do
    if "${CLI[@]}" --addr "127.0.0.1:${PORT[$1]}" dataplane status --json 2>/dev/null | grep -q '"attached": true'; then return; fi
    sleep 0.5
  done
  log "side $1: no dataplane attached"; tail -5 "$WORK/$1/serve.log" >&2; exit 1
}
wait_attached p
wait_attached x
pids() { echo "${SERVE_PID[$1]} $(cat "$WORK/$1/run/dataplane.pid" 2>/dev/null)"; }
only() { # side to run; the other is stopped
  local o=p; [ "$1" = p ] && o=x
  for q in $(pids "$o"); do kill -STOP "$q" 2>/dev/null || true; done
  for q in $(pids "$1" | tr ' ' '\n' | tac); do kill -CONT "$q" 2>/dev/null || true; done
}
# busy cycles and packets received by linerate's workers
counters() { # side
  "${CLI[@]}" --addr "127.0.0.1:${PORT[$1]}" stats --json 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const j = JSON.parse(s); let c = 0n, p = 0n;
      for (const w of j.workers) { c += BigInt(w.busyCycles); p += BigInt(w.rx?.packets ?? 0); }
      process.stdout.write(`${c} ${p}`);
    });'
}
trial() { # side -> "mpps cycles_per_packet" (empty when the trial failed)
  local s=$1 out c0 c1
  only "$s"
  wait_attached "$s"
  sleep 0.5
  c0=$(counters "$s")
  out=$(build/dp/bench/pktgen/linerate-pktgen -l 0 --no-pci --in-memory --file-prefix "$TAG-gen" --log-level warning -- \
    --tx-port "net_af_packet_g0,iface=$(ifname "$s" 0 b),qpairs=1" --rx-port "net_af_packet_g1,iface=$(ifname "$s" 1 b),qpairs=1" \
    --dst-mac "$(mac "$(ifname "$s" 0 a)")" --dst 10.1.0.1 --flows 16 --size "$SIZE" --burst 32 --retry \
    --warmup 1 --duration "$SECS" --start-delay-ms 300 --json 2>>"$WORK/gen.log" | tail -n 1)
  c1=$(counters "$s")
  node -e '
    try {
      const r = JSON.parse(process.argv[1]); const [a, b] = [process.argv[2].split(" "), process.argv[3].split(" ")];
      const dp = Number(BigInt(b[1]) - BigInt(a[1]));
      process.stdout.write(`${r.rx.steady.mpps} ${dp ? (Number(BigInt(b[0]) - BigInt(a[0])) / dp).toFixed(0) : "null"}`);
    } catch { }' "$out" "$c0" "$c1"
}

log "af_packet side and af_xdp side attached; $PAIRS pairs of ${SECS} s trials, ${SIZE} B, closed loop"
ratios=(); mp=(); mx=()
for i in $(seq 1 "$PAIRS"); do
  if [ $((i % 2)) -eq 1 ]; then order=(p x); else order=(x p); fi
  declare -A m=()
  for s in "${order[@]}"; do
    r=$(trial "$s")
    m[$s]=${r%% *}
    pmd=af_packet; [ $s = x ] && pmd=af_xdp
    printf '{"pair":%d,"pmd":"%s","mpps":%s,"cycles_per_packet":%s}\n' "$i" "$pmd" "${m[$s]:-null}" "${r#* }"
  done
  if [ -z "${m[p]}" ] || [ -z "${m[x]}" ]; then log "pair $i void: a trial failed (see $WORK/gen.log)"; unset m; continue; fi
  mp+=("${m[p]}"); mx+=("${m[x]}")
  ratios+=("$(node -e 'process.stdout.write((Number(process.argv[1]) / Number(process.argv[2])).toFixed(4))' "${m[x]}" "${m[p]}")")
  unset m
done
[ ${#ratios[@]} -gt 0 ] || { log "no complete pair"; exit 1; }
node -e '
  const med = (a) => { const r = a.map(Number).sort((x, y) => x - y); return r.length % 2 ? r[(r.length - 1) / 2] : (r[r.length / 2 - 1] + r[r.length / 2]) / 2; };
  const [n, ...rest] = process.argv.slice(1); const k = Number(n);
  const p = rest.slice(0, k), x = rest.slice(k, 2 * k), r = rest.slice(2 * k);
  console.log(JSON.stringify({ summary: "af_xdp / af_packet Mpps over veth, median of pairs", af_packet_mpps: med(p), af_xdp_mpps: med(x), ratios: r.map(Number), median_ratio: med(r) }));
' "${#mp[@]}" "${mp[@]}" "${mx[@]}" "${ratios[@]}"
