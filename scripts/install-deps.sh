#!/usr/bin/env bash
# Installs the real system parts jshim is tested against, from Debian, when missing.
set -euo pipefail
need=()
command -v runc >/dev/null || need+=(runc)
command -v containerd >/dev/null || need+=(containerd)
command -v ctr >/dev/null || need+=(containerd)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v setpriv >/dev/null || need+=(util-linux)
command -v cc >/dev/null || need+=(gcc libc6-dev) # the reaper's JNI trampoline (reaper/src/main/c)
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86) # the cgroup v2 guest (CgroupV2GuestTest)
ls /boot/vmlinuz-* >/dev/null 2>&1 || need+=(linux-image-amd64)       # its kernel, booted by qemu, never by the host
command -v cpio >/dev/null || need+=(cpio)                            # its initramfs
command -v promtool >/dev/null || need+=(prometheus)                 # promtool check metrics (MetricsEndToEndTest)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # the packages' services (prometheus' server, containerd's own) are not for this: tests run private instances,
  # so a policy of our own keeps them from being started during the install (unless the machine has one already)
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy"
  fi
  status=0
  apt-get install -y -qq "${need[@]}" >/dev/null || status=$?
  [ -z "$policy" ] || rm -f "$policy"
  exit $status
fi
