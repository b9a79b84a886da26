#!/usr/bin/env bash
# Start virtlogd and libvirtd without systemd (CI containers, development machines), if they
# are not running already, and wait until qemu:///system answers.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "start-libvirtd: must run as root" >&2
  exit 1
fi

getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
id libvirt-qemu >/dev/null 2>&1 \
  || useradd --system --gid libvirt-qemu --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu
mkdir -p /var/log/libvirt /var/run/libvirt /var/lib/libvirt

running() {  # running PIDFILE: true if the pid in PIDFILE is alive
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

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
