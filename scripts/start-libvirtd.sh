#!/usr/bin/env bash
# Start virtlogd and libvirtd without systemd (CI containers, development machines), if they
# are not running already, and wait until qemu:///system answers.
set -euo pipefail
# shellcheck source=lib/running.sh
. "$(dirname "$0")/lib/running.sh"

if [ "$(id -u)" -ne 0 ]; then
  echo "start-libvirtd: must run as root" >&2
  exit 1
fi

getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
id libvirt-qemu >/dev/null 2>&1 \
  || useradd --system --gid libvirt-qemu --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu
mkdir -p /var/log/libvirt /var/run/libvirt /var/lib/libvirt

# libvirt probes QEMU's capabilities again whenever /dev/kvm's accessibility changes, which makes
# every define and start take seconds. Give it the access Debian's udev rule gives: group kvm.
if [ -e /dev/kvm ]; then
  getent group kvm >/dev/null || groupadd --system kvm
  usermod -a -G kvm libvirt-qemu
  chgrp kvm /dev/kvm
  chmod 0660 /dev/kvm
fi

running /var/run/virtlogd.pid || virtlogd -d
running /var/run/libvirtd.pid || libvirtd -d

for _ in $(seq 1 50); do
  if virsh -c qemu:///system version >/dev/null 2>&1; then
    echo "start-libvirtd: libvirtd is up (pid $(cat /var/run/libvirtd.pid))"
    exit 0
  fi
  sleep 0.2
done
echo "start-libvirtd: libvirtd did not answer on qemu:///system within 10 s" >&2
exit 1
