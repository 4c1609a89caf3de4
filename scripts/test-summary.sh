#!/usr/bin/env bash
# Sums the per-module Surefire "Results:" lines of a Maven log into one closing summary,
# in Surefire's own format, so the last lines of `make test` say how the whole suite went.
set -euo pipefail
log="${1:-target-test.log}"
awk '
  /\[(INFO|ERROR|WARNING)\] Results:/ { inresults = 1; next }
  inresults && /Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$/ {
    line = $0; sub(/.*Tests run: /, "", line); split(line, f, /[^0-9]+/)
    run += f[1]; fail += f[2]; err += f[3]; skip += f[4]; modules++; inresults = 0
  }
  END {
    printf "[INFO] Surefire summary over %d modules:\n", modules
    printf "[INFO] Tests run: %d, Failures: %d, Errors: %d, Skipped: %d\n", run, fail, err, skip
  }' "$log"
