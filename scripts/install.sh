#!/usr/bin/env bash
# Installs jshim: the jars into LIBDIR, the launcher containerd-shim-jshim-v2 into BINDIR.
# Usage: install.sh BINDIR LIBDIR   (JAVA_HOME must point at a JDK 25; the Makefile sets it)
set -euo pipefail
bindir=${1:-/usr/local/bin}
libdir=${2:-/usr/local/lib/jshim}
here=$(cd "$(dirname "$0")/.." && pwd)
java="$JAVA_HOME/bin/java"
[ -x "$java" ] || { echo "install: no java at $java (set JAVA_HOME to a JDK 25)"; exit 1; }

mkdir -p "$libdir/lib" "$bindir"
rm -f "$libdir"/lib/*.jar
cp "$here"/shim/target/jshim-shim-*.jar "$libdir/lib/"
cp "$here"/shim/target/lib/*.jar "$libdir/lib/"

# The JVM flags every shim runs with: small heap and stacks, one compiler thread, no perf data.
cat > "$libdir/jvm.options" <<OPTS
-XX:+UseSerialGC
-Xms8m
-Xmx64m
-Xss256k
-XX:TieredStopAtLevel=1
-XX:ReservedCodeCacheSize=16m
-XX:MaxMetaspaceSize=64m
-XX:-UsePerfData
-XX:CICompilerCount=1
--enable-native-access=ALL-UNNAMED
OPTS

sed -e "s#@JAVA@#$java#g" -e "s#@LIBDIR@#$libdir#g" "$here/scripts/launcher.sh" > "$bindir/containerd-shim-jshim-v2"
chmod 755 "$bindir/containerd-shim-jshim-v2"
echo "installed $bindir/containerd-shim-jshim-v2 (jars in $libdir)"
