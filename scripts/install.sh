#!/usr/bin/env bash
# Installs jshim: the jars into LIBDIR, the launcher containerd-shim-jshim-v2 into BINDIR.
# Usage: install.sh BINDIR LIBDIR   (JAVA_HOME must point at a JDK 25; the Makefile sets it)
set -euo pipefail
bindir=${1:-/usr/local/bin}
libdir=${2:-/usr/local/lib/jshim}
here=$(cd "$(dirname "$0")/.." && pwd)
java="$JAVA_HOME/bin/java"
[ -x "$java" ] || { echo "install: no java at $java (set JAVA_HOME to a JDK 25)"; exit 1; }

# jshim's native struct layouts are x86-64's (io.jshim.reaper.Arch): refuse elsewhere rather than misbehave.
case $(uname -m) in
    x86_64) ;;
    *) echo "install: jshim runs on x86-64 only, not on $(uname -m)"; exit 1 ;;
esac

mkdir -p "$libdir" "$bindir"
rm -rf "$libdir/lib" "$libdir/native" "$libdir/jshim.jar" "$libdir/jshim-grpc.jar"

# Two stored jars instead of 49 on the class path, Netty's native library beside them (why: scripts/MergeJars.java):
# jshim.jar, the daemon's (jshim's modules with their own generated messages, logback and SLF4J: ttrpc, the console
# socket and the standby's control socket run on raw fds, so no Netty, and no protobuf runtime), and jshim-grpc.jar,
# everything else, which only gRPC needs (grpc-java, Netty and its HTTP/2 stack, guava, gson). A daemon serving ttrpc runs with
# jshim.jar alone: the class loader keeps the central directory of every jar it opens on the heap (a service lookup
# at boot opens them all), so every entry it need not see is heap saved (docs/performance.md). Every other JVM has
# both on its class path.
grpc_jars=() daemon_jars=()
for jar in "$here"/shim/target/jshim-shim-*.jar "$here"/shim/target/lib/*.jar; do
    case "${jar##*/}" in
        jshim-*|logback-*|slf4j-*) daemon_jars+=("$jar") ;;
        *) grpc_jars+=("$jar") ;;
    esac
done
"$java" "$here/scripts/MergeJars.java" "$libdir/jshim.jar" "$libdir/native" "${daemon_jars[@]}"
"$java" "$here/scripts/MergeJars.java" "$libdir/jshim-grpc.jar" "$libdir/native" "${grpc_jars[@]}"

# The JVM flags every shim runs with, chosen for footprint and a cold start (what each buys: docs/performance.md):
# - serial GC and a small heap that gives memory back (at most 24 MB: the serial collector grows its old generation
#   towards -Xmx rather than collect garbage such as a peer's malformed frames, so -Xmx bounds the growth; what is
#   live is small, even with 100 containers in one group; the event backlog, which must hold
#   100,000 events, is kept off the heap for that reason), a young generation of 512 KiB (every page of it is
#   touched between collections, and a daemon's few live objects survive a minor collection cheaply), compact object headers,
#   small stacks, no perf data, Netty without its pooled arenas, malloc trimmed every 5 s;
# - a string table of 8,192 buckets instead of 65,536: the interned strings of the AOT cache's classes are in the
#   cache's own table, a daemon interns a few hundred more, and the default's 512 KiB of buckets were resident in
#   every daemon (the table grows if it ever needs to);
# - the C1 compiler alone, on one thread at nice 19 (ThreadPriorityPolicy=1 lets the JVM set thread priorities;
#   it runs as root): on two busy cores the compiler's backlog otherwise competes with runc for the CPU while the
#   first container is created (a faster cold ctr run);
# - Netty on sun.misc.Unsafe, for the JVMs that load Netty (gRPC, a terminal's console socket, the standby's
#   control socket; not the ttrpc path): without it Netty 4.2 on Java 24+ links malloc and free through FFM
#   (CleanerJava24Linker, a hundred generated classes on an event loop's set-up); with Unsafe Netty would
#   also prefer direct buffers, which -Xmx does not bound (a peer's multi-MiB messages), so it is told not to
#   (noPreferDirect), as it did without Unsafe;
# - AOT training profiles neither recorded nor replayed: they feed C2, which never runs, and replaying them only
#   queued compilations (a faster cold ctr run);
# - no JVM logging at all, and the VM's own messages on stderr (start's stdout is its answer);
# - SLF4J bound to jshim's LogProvider by name (no ServiceLoader, no logback status printing: LogProvider says why),
#   and quiet about it (its info line on stderr would reach start's combined output, which containerd reads).
# ArchiveRelocationMode=0 maps the AOT cache at the address it was made for, so its pages stay clean file pages
# shared by every jshim JVM instead of private relocated copies in each (the price: that region is not
# randomised by ASLR; the JVM falls back to relocating if the address is taken).
cat > "$libdir/jvm.options" <<OPTS
-XX:+UseSerialGC
-Xms4m
-Xmn512k
-Xmx24m
-XX:MinHeapFreeRatio=10
-XX:MaxHeapFreeRatio=30
-XX:+UseCompactObjectHeaders
-Xss256k
-XX:TieredStopAtLevel=1
-XX:ReservedCodeCacheSize=16m
-XX:MaxMetaspaceSize=64m
-XX:-UsePerfData
-XX:StringTableSize=8192
-XX:CICompilerCount=1
-XX:ThreadPriorityPolicy=1
-XX:CompilerThreadPriority=19
-XX:+DisplayVMOutputToStderr
-Dio.netty.allocator.type=unpooled
-Dslf4j.provider=io.jshim.shim.cli.LogProvider
-Dslf4j.internal.verbosity=WARN
--sun-misc-unsafe-memory-access=allow
-Dio.netty.noPreferDirect=true
-XX:TrimNativeHeapInterval=5000
-XX:+UnlockDiagnosticVMOptions
-XX:ArchiveRelocationMode=0
-XX:-AOTRecordTraining
-XX:-AOTReplayTraining
-Xlog:disable
--enable-native-access=ALL-UNNAMED
-Djava.library.path=$libdir/native
OPTS

# The AOT cache (JEP 483/514/515): a training run walks start, the daemon and delete (io.jshim.shim.cli.Training),
# then the cache is created from what it loaded. It is valid only for this JDK, these jars and these flags, so it
# is made again at every install (which copies the jars afresh); a JVM that cannot use it runs without it.
build_aot() {
    local opts conf train
    opts=$(cat "$libdir/jvm.options")
    conf="$libdir/jshim.aotconf"
    train=$(mktemp -d /tmp/jshim-training.XXXXXX)
    rm -f "$libdir/jshim.aot"
    # shellcheck disable=SC2086
    if "$java" $opts -XX:AOTMode=record -XX:AOTConfiguration="$conf" -cp "$libdir/jshim.jar" \
            io.jshim.shim.cli.Training "$train/t" </dev/null >"$libdir/aot-training.log" 2>&1 3>&- \
        && "$java" $opts -XX:AOTMode=create -XX:AOTConfiguration="$conf" -XX:AOTCache="$libdir/jshim.aot" \
            -cp "$libdir/jshim.jar" </dev/null >>"$libdir/aot-training.log" 2>&1; then
        rm -f "$conf"
    else
        echo "install: no AOT cache (training failed, see $libdir/aot-training.log); the shim runs without it"
        rm -f "$conf" "$libdir/jshim.aot"
    fi
    rm -rf "$train"
}
if [ "${JSHIM_AOT:-1}" = 1 ]; then build_aot; fi

sed -e "s#@JAVA@#$java#g" -e "s#@LIBDIR@#$libdir#g" "$here/scripts/launcher.sh" > "$bindir/containerd-shim-jshim-v2"
chmod 755 "$bindir/containerd-shim-jshim-v2"
echo "installed $bindir/containerd-shim-jshim-v2 (jars in $libdir$( [ -f "$libdir/jshim.aot" ] && echo ", AOT cache $(du -m "$libdir/jshim.aot" | cut -f1) MB"))"
