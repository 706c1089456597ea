#!/usr/bin/env bash
# npm test: C unit tests (ctest), then every mocha suite (unit + integration
# against the real dataplane on vdevs). Set-up already ran (npm pretest).
set -euo pipefail
cd "$(dirname "$0")/.."
ctest --test-dir build/dp --output-on-failure
npx --no-install mocha --config control/test/.mocharc.json "$@"
