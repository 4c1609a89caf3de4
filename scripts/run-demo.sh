#!/usr/bin/env bash
# make run: a private containerd (own root, state, sockets, config) runs busybox containers with jshim,
# an exec into one of them, and shows the event stream and exit codes. Cleans up what it started, by pid.
set -uo pipefail
dir=$(mktemp -d /tmp/jshim-demo.XXXXXX)
sock="$dir/c.sock"
ctr() { command ctr --address "$sock" "$@"; }
cleanup() {
  [ -n "${events_pid:-}" ] && kill "$events_pid" 2>/dev/null
  if [ -n "${cd_pid:-}" ]; then
    ctr task kill -s KILL demo >/dev/null 2>&1; ctr task rm -f demo >/dev/null 2>&1; ctr container rm demo >/dev/null 2>&1
    kill "$cd_pid" 2>/dev/null; wait "$cd_pid" 2>/dev/null
  fi
  umount -R "$dir/root" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

echo "== busybox rootfs and a private containerd in $dir"
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/dev" "$dir/rootfs/sys" "$dir/rootfs/tmp"
cp /bin/busybox "$dir/rootfs/bin/busybox"
for a in sh sleep echo cat uname ps hostname true; do ln -s busybox "$dir/rootfs/bin/$a"; done
cat > "$dir/config.toml" <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$sock"
TOML
containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 &
cd_pid=$!
for _ in $(seq 100); do ctr version >/dev/null 2>&1 && break; sleep 0.1; done
ctr events >"$dir/events.log" 2>&1 &
events_pid=$!
sleep 0.3

rt=(--runtime io.containerd.jshim.v2 --rootfs --env PATH=/bin)
rootfs="$dir/rootfs"
echo
echo "== ctr run --rm: a container that prints and exits 3"
start=$(date +%s%N)
ctr run --rm "${rt[@]}" "$rootfs" hello sh -c 'echo "hello from a jshim container on $(uname -r)"; exit 3'
code=$?
echo "exit code: $code ($(( ($(date +%s%N) - start) / 1000000 )) ms, cold: no jshim was running)"

echo
echo "== a long-running container, an exec into it, ps, kill"
ctr run -d "${rt[@]}" "$rootfs" demo sleep 300 >/dev/null && echo "started demo"
ctr task exec --exec-id e1 demo sh -c 'echo "exec sees: $(ps | wc -l) lines of ps"; exit 6'
echo "exec exit code: $?"
ctr task ps demo
bundle="$dir/state/io.containerd.runtime.v2.task/default/demo"
shim_pid=$(cat "$bundle/shim.pid")
echo "shim: pid $shim_pid, $(awk '/VmRSS/ {print $2 / 1024 " MB RSS"}' "/proc/$shim_pid/status"), $(ls "/proc/$shim_pid/task" | wc -l) threads, socket $(cat "$bundle/address")"
ctr task kill -s KILL demo
# ctr 1.6 has no "task wait": wait for STOPPED, then "task rm" reports the exit code
for _ in $(seq 100); do ctr task ls | grep -q "^demo .*STOPPED" && break; sleep 0.1; done
ctr task rm demo 2>&1 | sed 's/^/task rm: /'
ctr container rm demo && echo "removed demo"
sleep 0.5

echo
echo "== events containerd received from jshim"
cut -c1-200 "$dir/events.log"
