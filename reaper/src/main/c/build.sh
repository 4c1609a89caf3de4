#!/bin/sh
# Builds libjshim_libc.so into DIR (the reaper's classes/META-INF/native, so that the jar carries it and
# install.sh's MergeJars puts it beside Netty's library). Usage: build.sh DIR JAVA_HOME
# Without a C compiler the build goes on without it: LibcCall then links its FFM handle (slower to start).
set -eu
out=$1
jdk=$2
here=$(dirname "$0")
mkdir -p "$out"
cc=${CC:-cc}
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "warning: no C compiler ($cc): libjshim_libc.so not built, LibcCall will use FFM" >&2
    rm -f "$out/libjshim_libc.so"
    exit 0
fi
"$cc" -O2 -shared -fPIC -Wall -Wextra -Werror -I"$jdk/include" -I"$jdk/include/linux" -o "$out/libjshim_libc.so" "$here/jshim_libc.c" "$here/jshim_spawn.c" -ldl
