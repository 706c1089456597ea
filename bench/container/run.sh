#!/usr/bin/env bash
# The containerised benchmark: linerate-pktgen ⇄ memif ⇄ linerate with both
# in containers (the image of control/deploy/Dockerfile, on the private
# engine of control/deploy/engine.sh, memif sockets on a shared volume),
# against the same pair on the bare host, in the same run: trials alternate
# (bare, container, container, bare, ...), the side not measured is paused
# (SIGSTOP for the bare processes, docker pause for the containers), and the
# figure is the median of the per-pair ratios containerised Mpps ÷ bare Mpps.
# Owned by the bench (README "Containers"); the target is >= 0.98.
#
#   flock /tmp/lr-dpdk.lock bash bench/container/run.sh [--pairs N] [--seconds S]
#
# Both forwarders: main lcore on CPU 0, worker on CPU 1 (EAL --lcores
# 0@0,1@1); both generators on CPU 0 (-l 0). 64-byte UDP, closed loop
# (--retry), 16 flows. Prints one JSON line per trial and a summary line.
set -euo pipefail
cd "$(dirname "$0")/../.."
PAIRS=3
SECONDS_PER_TRIAL=5
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) PAIRS=$2; shift 2 ;;
    --seconds) SECONDS_PER_TRIAL=$2; shift 2 ;;
    *) echo "usage: $0 [--pairs N] [--seconds S]" >&2; exit 2 ;;
  esac
done

TAG="lrcb-$$"
WORK=$(mktemp -d "/tmp/$TAG-XXXX")
BARE_DIR="$WORK/bare"
CTR_VOL="$TAG-memif"
CTR_NAME="$TAG-lr"
IMAGE=${LINERATE_IMAGE:-linerate:dev}
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=docker
eval "$(control/deploy/engine.sh start)"
export DOCKER_HOST
control/deploy/engine.sh image
mkdir -p "$BARE_DIR/memif" "$WORK/ctr"
BARE_PID=""
# memlock unlimited where root may raise it (see control/test/helpers/docker.ts memlockFlags); IPC_LOCK covers the rest.
MEMLOCK=()
grep -Eq '^Max locked memory +[^ ]+ +unlimited' /proc/self/limits && MEMLOCK=(--ulimit memlock=-1:-1)

log() { printf '[container-bench] %s\n' "$*" >&2; }

cleanup() {
  set +e
  [ -n "$BARE_PID" ] && { kill -CONT "$BARE_PID" 2>/dev/null; dp=$(cat "$BARE_DIR/run/dataplane.pid" 2>/dev/null); \
    [ -n "$dp" ] && kill -CONT "$dp" 2>/dev/null; kill -TERM "$BARE_PID" 2>/dev/null; wait "$BARE_PID" 2>/dev/null; }
  "$DOCKER" unpause "$CTR_NAME" >/dev/null 2>&1
  "$DOCKER" rm -f -v "$CTR_NAME" >/dev/null 2>&1
  "$DOCKER" volume rm -f "$CTR_VOL" "$TAG-state" >/dev/null 2>&1
  rm -rf "$WORK" "/var/run/dpdk/$TAG-gen" "/var/run/dpdk/linerate-$TAG-bare"
  control/deploy/engine.sh stop
}
trap cleanup EXIT

# One linerate config for both sides; only the name, port and socket directory differ.
config() { # name listen-port memif-dir state-dir run-dir
  cat <<EOF
name: $1
grpc: {listen: "127.0.0.1:$2"}
stateDir: $4
runDir: $5
dataplane:
  eal: ["--lcores", "0@0,1@1"]
  idleSleepUs: 0
  routes4: 65536
  routes6: 4096
  neighbors: 1024
  mbufs: 16384
ports:
  - {name: p0, device: "net_memif0,role=server,id=0,socket=$3/p0.sock,socket-abstract=no", mac: "02:00:00:00:01:00", addresses: [192.168.0.1/24]}
  - {name: p1, device: "net_memif1,role=server,id=0,socket=$3/p1.sock,socket-abstract=no", mac: "02:00:00:00:01:01", addresses: [192.168.1.1/24]}
routes:
  - {prefix: 10.1.0.0/16, via: 192.168.1.2, port: p1}
neighbors:
  - {address: 192.168.0.2, mac: "02:00:00:00:00:00", port: p0}
  - {address: 192.168.1.2, mac: "02:00:00:00:00:01", port: p1}
EOF
}
PORT=$((42000 + $$ % 8000))
config "$TAG-bare" "$PORT" "$BARE_DIR/memif" "$BARE_DIR/state" "$BARE_DIR/run" >"$BARE_DIR/linerate.yaml"
config "$TAG-ctr" "$((PORT + 1))" /run/memif /var/lib/linerate/ctr /run/linerate/ctr >"$WORK/ctr/linerate.yaml"

GEN_ARGS=(--dst-mac 02:00:00:00:01:00 --dst 10.1.0.1 --flows 16 --size 64 --burst 64 --retry
  --warmup 1 --duration "$SECONDS_PER_TRIAL" --start-delay-ms 200 --json)
gen_dev() { # dir
  echo --tx-port "net_memif_g0,role=client,socket=$1/p0.sock,socket-abstract=no,mac=02:00:00:00:00:00" \
       --rx-port "net_memif_g1,role=client,socket=$1/p1.sock,socket-abstract=no,mac=02:00:00:00:00:01"
}

log "bare: linerate serve on the host"
node dist/control/src/cli/main.js serve --config "$BARE_DIR/linerate.yaml" --stop-dataplane >"$WORK/bare-serve.log" 2>&1 &
BARE_PID=$!
log "container: linerate in host network mode, memif sockets on volume $CTR_VOL"
"$DOCKER" volume create "$CTR_VOL" >/dev/null
"$DOCKER" volume create "$TAG-state" >/dev/null
"$DOCKER" run -d --name "$CTR_NAME" --network host --cap-drop ALL --cap-add IPC_LOCK --cap-add SYS_NICE "${MEMLOCK[@]}" \
  --security-opt no-new-privileges --mount type=bind,src=/dev/hugepages,dst=/dev/hugepages --cpuset-cpus 0,1 \
  -v "$TAG-state:/var/lib/linerate" -v "$WORK/ctr:/etc/linerate:ro" -v "$CTR_VOL:/run/memif" \
  "$IMAGE" serve --config /etc/linerate/linerate.yaml --stop-dataplane >/dev/null

wait_attached() { # port what
  for _ in $(seq 1 240); do
    if node dist/control/src/cli/main.js --addr "127.0.0.1:$1" dataplane status --json 2>/dev/null | grep -q '"attached": true'; then return; fi
    sleep 0.5
  done
  log "$2: no dataplane attached"; exit 1
}
wait_attached "$PORT" bare
wait_attached "$((PORT + 1))" container

# serve, then its dataplane (a memif server that crashed when its client left is respawned: read the pid each time)
bare_pids() { echo "$BARE_PID $(cat "$BARE_DIR/run/dataplane.pid" 2>/dev/null)"; }
# Idempotent, and free of shell state (trials run in $(...) subshells): docker says whether it is paused.
ctr_paused() { [ "$("$DOCKER" inspect -f '{{.State.Paused}}' "$CTR_NAME")" = true ]; }
pause_bare() { for p in $(bare_pids); do kill -STOP "$p" 2>/dev/null || true; done; }
resume_bare() { for p in $(bare_pids | tr ' ' '\n' | tac); do kill -CONT "$p" 2>/dev/null || true; done; }
only() { # bare|container: pause the other side, resume this one
  if [ "$1" = bare ]; then
    ctr_paused || "$DOCKER" pause "$CTR_NAME" >/dev/null
    resume_bare
  else
    pause_bare
    ! ctr_paused || "$DOCKER" unpause "$CTR_NAME" >/dev/null
  fi
}

trial() { # bare|container -> prints Mpps, or nothing when the trial failed
  local side=$1 out
  if [ "$side" = bare ]; then
    only bare
    wait_attached "$PORT" bare
    # shellcheck disable=SC2046
    out=$(build/dp/bench/pktgen/linerate-pktgen -l 0 --no-pci --in-memory --file-prefix "$TAG-gen" --log-level warning -- \
      $(gen_dev "$BARE_DIR/memif") "${GEN_ARGS[@]}" 2>>"$WORK/gen.log" | tail -n 1)
  else
    only container
    wait_attached "$((PORT + 1))" container
    # shellcheck disable=SC2046
    out=$("$DOCKER" run --rm --network none --cap-drop ALL --cap-add IPC_LOCK --cap-add SYS_NICE "${MEMLOCK[@]}" \
      --security-opt no-new-privileges --mount type=bind,src=/dev/hugepages,dst=/dev/hugepages --cpuset-cpus 0 \
      -v "$CTR_VOL:/run/memif" --entrypoint linerate-pktgen "$IMAGE" \
      -l 0 --no-pci --in-memory --file-prefix "$TAG-gen" --log-level warning -- \
      $(gen_dev /run/memif) "${GEN_ARGS[@]}" 2>>"$WORK/gen.log" | tail -n 1)
  fi
  node -e 'try { process.stdout.write(String(JSON.parse(process.argv[1]).rx.steady.mpps)) } catch { }' "$out"
}

ratios=()
for i in $(seq 1 "$PAIRS"); do
  if [ $((i % 2)) -eq 1 ]; then order=(bare container); else order=(container bare); fi
  declare -A m=()
  for side in "${order[@]}"; do
    m[$side]=$(trial "$side")
    printf '{"pair":%d,"side":"%s","mpps":%s}\n' "$i" "$side" "${m[$side]:-null}"
  done
  # A failed trial (no result: see $WORK/gen.log) voids its pair.
  if [ -z "${m[bare]}" ] || [ -z "${m[container]}" ]; then log "pair $i void: a trial failed"; unset m; continue; fi
  ratios+=("$(node -e 'process.stdout.write((Number(process.argv[1]) / Number(process.argv[2])).toFixed(4))' "${m[container]}" "${m[bare]}")")
  unset m
done
[ ${#ratios[@]} -gt 0 ] || { log "no complete pair"; exit 1; }
node -e '
  const r = process.argv.slice(1).map(Number).sort((a, b) => a - b);
  const med = r.length % 2 ? r[(r.length - 1) / 2] : (r[r.length / 2 - 1] + r[r.length / 2]) / 2;
  console.log(JSON.stringify({ summary: "containerised / bare Mpps, median of pairs", ratios: r, median: med, target: 0.98, met: med >= 0.98 }));
' "${ratios[@]}"
