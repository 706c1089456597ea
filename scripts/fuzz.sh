#!/usr/bin/env bash
# npm run fuzz -- [--seconds N] [--runs M] [HARNESS...]: builds the libFuzzer harnesses
# of dataplane/tests/fuzz (clang, -fsanitize=fuzzer,address,undefined over the
# dataplane library, in build/fuzz: parse, args, ctl) and runs each, and the
# config loader's mutation fuzzer (config: control/test/fuzz), for N seconds (default 60)
# on its corpus: the committed seeds (dataplane/tests/fuzz/corpus/NAME) plus
# what earlier runs found (build/fuzz/corpus/NAME); --runs M stops each one
# after M executions instead (the time limit then defaults to a day). Prints
# one line per harness (seconds taken, executions, executions/s, corpus,
# result) and writes them to build/fuzz/report.txt; a crash, leak or
# sanitizer report fails the run and leaves its input in
# build/fuzz/artifacts/. npm test runs it briefly (scripts/test.sh: --seconds 5).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=""
runs=0
harnesses=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    --runs) runs="$2"; shift 2 ;;
    --runs=*) runs="${1#*=}"; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) harnesses+=("$1"); shift ;;
  esac
done
[ ${#harnesses[@]} -gt 0 ] || harnesses=(parse args ctl config)
[[ "$runs" =~ ^[0-9]+$ ]] || { echo "[fuzz] --runs: a count, got '$runs'" >&2; exit 2; }
if [ -z "$seconds" ]; then
  if [ "$runs" -gt 0 ]; then seconds=86400; else seconds=60; fi
fi

CC=${LINERATE_FUZZ_CC:-clang-14}
if ! command -v "$CC" >/dev/null || [ ! -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ]; then
  echo "[fuzz] installing clang-14 and libclang-rt-14-dev" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends clang-14 libclang-rt-14-dev >&2
fi

cmake -S . -B build/fuzz -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="${CC/clang/clang++}" \
  -DCMAKE_BUILD_TYPE=Release -DLINERATE_FUZZ=ON >/dev/null
cmake --build build/fuzz -j "$(nproc)" >&2

bin=build/fuzz/dataplane/tests/fuzz
mkdir -p build/fuzz/artifacts
: > build/fuzz/report.txt
status=0
for h in "${harnesses[@]}"; do
  if [ "$h" = config ]; then  # the TypeScript config loader: a mutation fuzzer in node
    set +e
    t0=$SECONDS
    out=$(node dist/control/test/fuzz/config-fuzz.js --seconds "$seconds" --runs "$runs" 2>build/fuzz/config.log)
    rc=$?
    set -e
    execs=$(sed -n 's/.*"executions":\([0-9]*\).*/\1/p' <<<"$out")
    rate=$(sed -n 's/.*"perSecond":\([0-9]*\).*/\1/p' <<<"$out")
    result=ok
    if [ $rc -ne 0 ]; then result="FAILED (see build/fuzz/config.log)"; status=1; tail -20 build/fuzz/config.log >&2; fi
    printf '%-6s %4ss  %12s executions  %8s/s  %-12s %s\n' config "$((SECONDS - t0))" "${execs:-?}" "${rate:-?}" "(mutation)" "$result" | tee -a build/fuzz/report.txt
    continue
  fi
  exe="$bin/fuzz_$h"
  [ -x "$exe" ] || { echo "[fuzz] no harness '$h' (parse, args, ctl)" >&2; exit 2; }
  corpus=build/fuzz/corpus/$h
  mkdir -p "$corpus"
  log=build/fuzz/$h.log
  set +e
  t0=$SECONDS
  # detect_leaks=0 for ctl: the EAL's own allocations outlive the process on purpose
  leaks=1; [ "$h" = ctl ] && leaks=0
  ASAN_OPTIONS="detect_leaks=$leaks:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$exe" -max_total_time="$seconds" -runs="$((runs > 0 ? runs : -1))" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="build/fuzz/artifacts/$h-" "$corpus" "dataplane/tests/fuzz/corpus/$h" > "$log" 2>&1 &
  pid=$!
  wait $pid
  rc=$?
  set -e
  # libFuzzer exits without unwinding: what fuzz_ctl's EAL and socket left
  rm -rf "/var/run/dpdk/lr-fuzz-ctl-$pid" "/tmp/lr-fuzz-ctl-$pid.sock"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  files=$(find "$corpus" -type f | wc -l)
  if [ $rc -eq 0 ]; then
    result=ok
  else
    result="FAILED (exit $rc, see $log and build/fuzz/artifacts/)"
    status=1
    grep -E "ERROR: |SUMMARY: |runtime error" "$log" | head -5 >&2 || true
  fi
  line=$(printf '%-6s %4ss  %12s executions  %8s/s  corpus %5s  %s' "$h" "$((SECONDS - t0))" "${execs:-?}" "${rate:-?}" "$files" "$result")
  echo "$line" | tee -a build/fuzz/report.txt
done
exit $status
