#!/usr/bin/env bash
# make bench: runs io.jshim.test.bench.Bench (jshim against containerd-shim-runc-v2 under one private containerd)
# on the test module's class path. Needs the tree built and installed in ~/.m2 (make bench builds first).
# Extra JVM properties pass through BENCH_OPTS, e.g. BENCH_OPTS="-Djshim.bench.rounds=30 -Djshim.bench.full=true".
# One part alone: -Djshim.bench.ctr=false (only the Kubernetes pods through CRI, ~7 minutes) or -Djshim.bench.cri=false
# (only ctr); -Djshim.bench.cri.pods=10 (the CRI memory figures' pod counts, default 10,50).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
mvn -B -q -ntp -o -pl test dependency:build-classpath -Dmdep.outputFile=target/bench.classpath >/dev/null
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED ${BENCH_OPTS:-} \
  -cp "test/target/classes:$(cat test/target/bench.classpath)" io.jshim.test.bench.Bench "$@"
