#!/usr/bin/env bash
set -euo pipefail
bindir=${1:-/usr/local/bin}
libdir=${2:-/usr/local/lib/jshim}
rm -f "$bindir/containerd-shim-jshim-v2"
rm -rf "$libdir"
echo "removed $bindir/containerd-shim-jshim-v2 and $libdir"
