#!/usr/bin/env bash
# npm test: C unit tests (ctest), the fuzz harnesses briefly (scripts/fuzz.sh),
# then every mocha suite (unit + integration against the real dataplane on
# vdevs). Set-up already ran (npm pretest). LINERATE_SANITIZE=1 npm test runs
# it all against the ASan + UBSan build of the dataplane (scripts/build.sh):
# any sanitizer report, from any process, fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${LINERATE_SANITIZE:-0}" = 1 ]; then
  grep -q 'LINERATE_SANITIZE:BOOL=ON' build/dp/CMakeCache.txt || bash scripts/build.sh
  reports=$PWD/build/sanitize
  rm -rf "$reports"
  mkdir -p "$reports"
  # halt at the first report; the dataplane's stderr is its log, so reports also go to files
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$reports/asan"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
  export LSAN_OPTIONS="suppressions=$PWD/dataplane/tests/lsan.supp"
fi
ctest --test-dir build/dp --output-on-failure
bash scripts/fuzz.sh --seconds "${LINERATE_FUZZ_SECONDS:-5}"
status=0
npx --no-install mocha --config control/test/.mocharc.json "$@" || status=$?
if [ "${LINERATE_SANITIZE:-0}" = 1 ] && compgen -G "$reports/*" >/dev/null; then
  echo "sanitizer reports in $reports:" >&2
  head -40 "$reports"/* >&2
  status=1
fi
exit $status
