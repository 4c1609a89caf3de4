#!/usr/bin/env bash
# The figures of docs/performance.md "The daemon's metrics": one exposition of the same families with jshim's
# PromText, the Prometheus Java client and Micrometer (and the GC MXBeans alone), each in a fresh JVM, 5 rounds.
# Not part of the build: the libraries are fetched into this directory's own class path only. Needs the tree built.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mvn -B -q -ntp -f "$here/pom.xml" dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" >/dev/null
cp="$(cat "$work/cp.txt"):$here/../../shim/target/jshim-shim-0.1.0-SNAPSHOT.jar"
"$JAVA_HOME/bin/javac" -d "$work/out" -cp "$cp" "$here/Scratch.java" 2>&1 | grep -v '^Note:' || true
for jar in $(tr ':' ' ' < "$work/cp.txt"); do echo "$(stat -c %s "$jar") $(basename "$jar")"; done
for i in 1 2 3 4 5; do
  for mode in none ours prom micrometer gc; do
    "$JAVA_HOME/bin/java" -Xlog:class+load=info:file="$work/classes-$mode.log" -cp "$work/out:$cp" scratch.Scratch $mode
    echo "  $mode: $(grep -c . "$work/classes-$mode.log") classes loaded in all"
  done
done
