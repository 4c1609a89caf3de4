#!/usr/bin/env bash
# Boots a cgroup v2-only guest (qemu, TCG: no /dev/kvm needed) that sees this machine's root file system read-only
# over virtio-9p, runs one command in it and powers off. The tests use it to prove jshim's cgroup v2 paths on a host
# whose own memory controller is on cgroup v1 (CgroupV2GuestTest).
#
# Usage: cgroup2-guest.sh OUTDIR DEADLINE_SECONDS COMMAND...
#   OUTDIR    a directory shared read-write with the guest at the same path (under this repository, or anywhere
#             but /tmp, /var/tmp, /root, /run and /dev, which the guest mounts its own file systems on); the
#             guest writes there: console.log (serial), booted (guest uptime when the command starts), rc, and
#             whatever COMMAND writes.
#   COMMAND   runs as root in the guest with cgroup2 mounted at /sys/fs/cgroup (no v1 hierarchy: cgroup_no_v1=all),
#             every controller enabled for the root's children, tmpfs on /tmp, /run, /var/tmp, /root.
# The guest's kernel is Debian's linux-image-amd64 (/boot/vmlinuz-*), its initramfs a busybox that loads the virtio
# and 9p modules and switches onto the host's root (built once into OUTDIR/../initramfs-KERNEL.cpio.gz). qemu is
# killed by pid at the deadline; exit status: COMMAND's, or 124 at the deadline, or 125 when the guest cannot be had.
#
# Inside the guest the same script runs as init's second stage (--stage2 OUTDIR).
set -euo pipefail

if [ "${1:-}" = --stage2 ]; then
  out=$2
  mount -t proc proc /proc
  mount -t sysfs sys /sys
  mount -t devtmpfs dev /dev 2>/dev/null || true
  mkdir -p /dev/pts /dev/shm
  mount -t devpts devpts /dev/pts
  mount -t tmpfs shm /dev/shm
  # the host's Maven repository stays visible under the writable /root, and this repository wherever it is (a CI
  # clone may be under /tmp or /root): the command's class path names their jars and the installed shim
  [ -d /root/.m2 ] && mkdir -p /dev/.m2 && mount --bind /root/.m2 /dev/.m2
  repo=$(cd "$(dirname "$0")/.." && pwd)
  case "$repo" in /tmp/* | /var/tmp/* | /root/*) mkdir -p /dev/.repo && mount --bind "$repo" /dev/.repo ;; esac
  for d in /tmp /run /var/tmp /root /var/lib/containerd; do
    [ -d "$d" ] && mount -t tmpfs -o mode=1777 tmpfs "$d"
  done
  chmod 700 /root
  [ -d /dev/.m2 ] && mkdir -p /root/.m2 && mount --move /dev/.m2 /root/.m2
  [ -d /dev/.repo ] && mkdir -p "$repo" && mount --move /dev/.repo "$repo"
  mkdir -p "$out" && mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=none out "$out"
  mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
  # every controller the kernel offers, for the root's children (the cgroups containers and shims land in)
  for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
    echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || echo "cannot enable $c" >&2
  done
  ip link set lo up 2>/dev/null || busybox ip link set lo up 2>/dev/null || true
  hostname cgroup2-guest 2>/dev/null || true
  cut -d' ' -f1 /proc/uptime > "$out/booted"
  cmd=$(cat "$out/command")
  export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TMPDIR=/tmp
  set +e
  (cd "$out" && eval "$cmd") > "$out/command.log" 2>&1 < /dev/null
  echo $? > "$out/rc.tmp"
  set -e
  mv "$out/rc.tmp" "$out/rc"
  sync
  umount "$out" 2>/dev/null || true
  echo o > /proc/sysrq-trigger  # power off at once (no init system here to stop)
  sleep 30
  exit 1
fi

[ $# -ge 3 ] || { echo "usage: $0 OUTDIR DEADLINE_SECONDS COMMAND..." >&2; exit 2; }
out=$(realpath -m "$1"); deadline=$2; shift 2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(realpath -m "$(dirname "$here")")
case "$repo" in /run/* | /dev/* | /proc/* | /sys/*)
  echo "cgroup2-guest: this repository ($repo) is under a directory the guest mounts a tmpfs or pseudo fs on" >&2
  exit 2;;
esac
case "$out" in
  "$repo"/*) ;; # the guest keeps the repository visible (--stage2)
  /tmp/* | /run/* | /dev/* | /proc/* | /sys/* | /var/tmp/* | /root/*)
    echo "cgroup2-guest: OUTDIR $out is under a directory the guest mounts a tmpfs or pseudo fs on" >&2; exit 2;;
esac
script="$here/$(basename "$0")"
fail() { echo "cgroup2-guest: $*" >&2; exit 125; }

qemu=$(command -v qemu-system-x86_64 || true)
[ -n "$qemu" ] || fail "no qemu-system-x86_64 (Debian package qemu-system-x86; make deps installs it)"
kernel=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1 || true)
[ -n "$kernel" ] && [ -r "$kernel" ] || fail "no kernel in /boot (Debian package linux-image-amd64; make deps installs it)"
kver=${kernel#/boot/vmlinuz-}
[ -d "/lib/modules/$kver" ] || fail "no /lib/modules/$kver for kernel $kernel"
dpkg -s busybox-static >/dev/null 2>&1 && [ -x /bin/busybox ] || fail "no static /bin/busybox (Debian package busybox-static)"
command -v cpio >/dev/null || fail "no cpio (Debian package cpio) to make the guest's initramfs"

mkdir -p "$out"
rm -f "$out/rc" "$out/booted" "$out/console.log" "$out/command.log" "$out/qemu.pid"
printf '%s\n' "$*" > "$out/command"

# The initramfs: busybox and the modules for virtio-9p, made once per kernel and kept beside OUTDIR.
initrd="$(dirname "$out")/initramfs-$kver.cpio.gz"
if [ ! -s "$initrd" ] || [ "$initrd" -ot "$script" ]; then
  tree=$(mktemp -d "$(dirname "$out")/initramfs.XXXXXX")
  trap 'rm -rf "$tree"' EXIT
  mkdir -p "$tree/bin" "$tree/newroot" "$tree/proc" "$tree/sys" "$tree/dev" "$tree/lib/modules"
  cp /bin/busybox "$tree/bin/busybox"
  order=()
  add() { # a module after the modules it depends on
    local m=$1 d
    for d in $(modinfo -k "$kver" -F depends "$m" | tr ',' ' '); do add "$d"; done
    case " ${order[*]-} " in *" $m "*) ;; *) order+=("$m") ;; esac
  }
  for m in virtio_pci 9pnet_virtio 9p; do add "$m"; done
  for m in "${order[@]}"; do
    cp "$(modinfo -k "$kver" -F filename "$m")" "$tree/lib/modules/$m.ko"
  done
  cat > "$tree/init" <<INIT
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
for m in ${order[*]}; do /bin/busybox insmod /lib/modules/\$m.ko || echo "insmod \$m failed"; done
/bin/busybox mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /newroot \
  || { echo "cgroup2-guest: cannot mount the host root over 9p"; /bin/busybox poweroff -f; }
out=\$(/bin/busybox sed -n 's/.*jshim.out=\([^ ]*\).*/\1/p' /proc/cmdline)
/bin/busybox umount /proc
exec /bin/busybox switch_root /newroot /bin/bash "$script" --stage2 "\$out"
INIT
  chmod 755 "$tree/init"
  (cd "$tree" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
  rm -rf "$tree"
  trap - EXIT
fi

start=$EPOCHREALTIME
elapsed() { awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
# -smp 2 -m 2048 at most: the host's 2 cores are shared. TCG, multi-threaded; no network, no disks.
"$qemu" -nodefaults -no-user-config -nographic -no-reboot \
  -machine pc -accel tcg,thread=multi -cpu max -smp "${JSHIM_GUEST_CPUS:-2}" -m "${JSHIM_GUEST_MEM:-2048}" \
  -kernel "$kernel" -initrd "$initrd" \
  -append "console=ttyS0 cgroup_no_v1=all panic=-1 quiet loglevel=4 jshim.out=$out" \
  -serial "file:$out/console.log" -monitor none \
  -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
  -virtfs "local,path=$out,mount_tag=out,security_model=none,multidevs=remap" \
  </dev/null >"$out/qemu.log" 2>&1 &
qpid=$!
echo "$qpid" > "$out/qemu.pid"
reported=
while kill -0 "$qpid" 2>/dev/null; do
  if [ -z "$reported" ] && [ -s "$out/booted" ]; then
    reported=1
    echo "cgroup2-guest: booted in $(elapsed) s (guest uptime $(cat "$out/booted") s)"
  fi
  if [ "$(elapsed | cut -d. -f1)" -ge "$deadline" ]; then
    kill -9 "$qpid" 2>/dev/null || true
    wait "$qpid" 2>/dev/null || true
    echo "cgroup2-guest: deadline of $deadline s reached; qemu (pid $qpid) killed" >&2
    tail -20 "$out/console.log" >&2 || true
    exit 124
  fi
  sleep 0.5
done
wait "$qpid" 2>/dev/null || true
echo "cgroup2-guest: run took $(elapsed) s"
if [ ! -s "$out/rc" ]; then
  echo "cgroup2-guest: the guest stopped without the command's status" >&2
  tail -30 "$out/console.log" >&2 || true
  cat "$out/qemu.log" >&2 || true
  exit 125
fi
exit "$(cat "$out/rc")"
