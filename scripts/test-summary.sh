#!/usr/bin/env bash
# Sums the per-module Surefire "Results:" lines of Maven logs (target-test.log, or those named) into one closing
# summary, in Surefire's own format, so the last lines of `make test` (or of CI's suites) say how the whole went.
set -euo pipefail
[ $# -gt 0 ] || set -- target-test.log
logs=()
for f in "$@"; do [ -f "$f" ] && logs+=("$f"); done
[ ${#logs[@]} -gt 0 ] || logs=(/dev/null)
awk '
  /\[(INFO|ERROR|WARNING)\] Results:/ { inresults = 1; next }
  inresults && /Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$/ {
    line = $0; sub(/.*Tests run: /, "", line); split(line, f, /[^0-9]+/)
    run += f[1]; fail += f[2]; err += f[3]; skip += f[4]; modules++; inresults = 0
  }
  END {
    printf "[INFO] Surefire summary over %d modules:\n", modules
    printf "[INFO] Tests run: %d, Failures: %d, Errors: %d, Skipped: %d\n", run, fail, err, skip
  }' "${logs[@]}"
