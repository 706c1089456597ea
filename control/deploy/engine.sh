#!/usr/bin/env bash
# A private Docker engine for linerate's container tests and benchmark, and
# the images they run. Owned by the deployment (control/deploy/); called by
# control/test/integration/container.test.ts and the container bench
# (bench/harness/container.ts: npm run bench -- --container), or by
# hand. It never touches a system dockerd: its own data root (the cache that
# keeps the base and the image between runs), exec root, pid file and socket;
# no bridge and no iptables rules (linerate runs in host network mode; so do
# the image builds).
#
#   engine.sh start        start dockerd unless ours already answers; prints DOCKER_HOST=...
#   engine.sh stop         stop the dockerd we started (by the pid in its pid file)
#   engine.sh base         the base image (debootstrap --variant=minbase bookworm | docker import), cached
#   engine.sh image        the linerate image (control/deploy/Dockerfile) from the tracked tree
#   engine.sh check        exit 0 if an engine can be started here at all, else 1 with the reason
#
# Environment: LINERATE_DOCKER_CACHE (default /var/cache/linerate-docker),
# LINERATE_DOCKER_RUN (default /run/linerate-docker), LINERATE_IMAGE
# (default linerate:dev), LINERATE_BASE_IMAGE (default linerate-base:bookworm).
set -euo pipefail
cd "$(dirname "$0")/../.."

CACHE=${LINERATE_DOCKER_CACHE:-/var/cache/linerate-docker}
RUN=${LINERATE_DOCKER_RUN:-/run/linerate-docker}
IMAGE=${LINERATE_IMAGE:-linerate:dev}
BASE_IMAGE=${LINERATE_BASE_IMAGE:-linerate-base:bookworm}
SOCK="$RUN/docker.sock"
PIDFILE="$RUN/dockerd.pid"
MIRROR=${LINERATE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
export DOCKER_HOST="unix://$SOCK"
# Debian's client (docker.io) matches its daemon; another docker on PATH may want buildx.
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=docker

log() { printf '[engine] %s\n' "$*" >&2; }

answering() { "$DOCKER" version >/dev/null 2>&1; }

cmd_check() {
  command -v dockerd >/dev/null || { echo "no dockerd (apt-get install docker.io)"; exit 1; }
  [ "$(id -u)" -eq 0 ] || { echo "dockerd needs root"; exit 1; }
  exit 0
}

cmd_start() {
  mkdir -p "$CACHE/data" "$RUN/exec"
  if answering; then
    echo "DOCKER_HOST=$DOCKER_HOST"
    return
  fi
  log "starting dockerd (data root $CACHE/data, socket $SOCK)"
  # setsid: its own session, so that a test runner's process group signal does not reach it.
  # Only stdin/out/err go to it: an inherited descriptor (a caller's flock on
  # /tmp/lr-dpdk.lock, a test runner's pipe) would be held for the daemon's whole life.
  local fd
  for fd in /proc/$$/fd/*; do
    fd=${fd##*/}
    [ "$fd" -gt 2 ] && [ "$fd" != 255 ] && eval "exec $fd>&-"
  done
  setsid dockerd --data-root "$CACHE/data" --exec-root "$RUN/exec" --pidfile "$PIDFILE" \
    -H "unix://$SOCK" --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
    --log-level warn >"$RUN/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    answering && { echo "DOCKER_HOST=$DOCKER_HOST"; return; }
    kill -0 $! 2>/dev/null || { tail -n 20 "$RUN/dockerd.log" >&2; log "dockerd exited"; exit 1; }
    sleep 0.5
  done
  tail -n 20 "$RUN/dockerd.log" >&2
  log "dockerd did not answer within 60 s"
  exit 1
}

cmd_stop() {
  [ -f "$PIDFILE" ] || return 0
  local pid
  pid=$(cat "$PIDFILE")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q dockerd "/proc/$pid/cmdline" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { log "dockerd $pid still running after 30 s: SIGKILL"; kill -KILL "$pid"; }
  fi
  rm -f "$PIDFILE" "$SOCK"
}

cmd_base() {
  if "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then return; fi
  local tarball="$CACHE/bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || { log "no debootstrap (apt-get install debootstrap)"; exit 1; }
    local root="$CACHE/rootfs.tmp"
    rm -rf "$root"
    log "debootstrap --variant=minbase bookworm (a few minutes, once)"
    debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
      || { tail -n 20 "$CACHE/debootstrap.log" >&2; exit 1; }
    # The suites debian:bookworm-slim has, so that a build sees the same packages.
    rm -f "$root/etc/apt/sources.list"
    cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOT
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
    # This site's extra trust roots (e.g. a TLS-intercepting egress proxy), as a
    # site's own base image carries them: npm reaches its registry through them.
    for crt in /usr/local/share/ca-certificates/*.crt; do
      [ -f "$crt" ] && install -D -m 0644 "$crt" "$root/usr/local/share/ca-certificates/$(basename "$crt")"
    done
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" --numeric-owner -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  log "docker import $BASE_IMAGE"
  # Node reads the system store (where ca-certificates puts those roots) only when told.
  "$DOCKER" import --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' "$tarball" "$BASE_IMAGE" >/dev/null
}

cmd_image() {
  cmd_base
  # The build context is the tracked (and untracked, not ignored) files: never
  # node_modules, build/ or dist/ of this checkout; nor the tests, docs and
  # deployment files, which the image does not hold (a change to them then
  # reuses the cached build). bench/harness (the host's benchmark driver)
  # and bench/results: nothing in the image runs or reads them.
  log "docker build $IMAGE (cached layers are reused)"
  { git ls-files -z --cached --others --exclude-standard -- . ':!node_modules' ':!control/test' ':!bench/test' ':!bench/container' ':!bench/harness' ':!bench/results' \
      ':!*.md' ':!control/deploy'; printf 'control/deploy/Dockerfile\0'; } \
    | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
    | tar --null -T - -cf - \
    | "$DOCKER" build --network host -f control/deploy/Dockerfile --build-arg "BASE=$BASE_IMAGE" -t "$IMAGE" - >"$CACHE/build.log" 2>&1 \
    || { tail -n 30 "$CACHE/build.log" >&2; log "docker build failed (log: $CACHE/build.log)"; exit 1; }
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  base) cmd_base ;;
  image) cmd_image ;;
  check) cmd_check ;;
  *) echo "usage: $0 start|stop|base|image|check" >&2; exit 2 ;;
esac
