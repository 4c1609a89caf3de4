#!/usr/bin/env bash
# make bench: runs io.jshim.test.bench.Bench (jshim against containerd-shim-runc-v2 under one private containerd)
# on the test module's class path. Needs the tree built and installed in ~/.m2 (make bench builds first).
# Extra JVM properties pass through BENCH_OPTS, e.g. BENCH_OPTS="-Djshim.bench.rounds=30 -Djshim.bench.full=true".
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
mvn -B -q -ntp -o -pl test dependency:build-classpath -Dmdep.outputFile=target/bench.classpath >/dev/null
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED ${BENCH_OPTS:-} \
  -cp "test/target/classes:$(cat test/target/bench.classpath)" io.jshim.test.bench.Bench "$@"
