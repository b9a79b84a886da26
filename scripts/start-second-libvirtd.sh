#!/usr/bin/env bash
# Start the second test host, if it is not running already, and wait until it answers at
# qemu+tcp://127.0.0.1:16519/system: a libvirtd of its own beside the main one
# (scripts/start-libvirtd.sh), so tests can prove one VirtDancer manages two real hosts.
#
# The system QEMU driver has its folders built in (/etc/libvirt, /var/lib/libvirt,
# /run/libvirt, ...), and no option or setting moves them all. So the second libvirtd runs in
# a mount namespace of its own, where folders of its own are bind-mounted over libvirt's. It
# shares the network (it listens on loopback) and the process IDs (its pidfile holds a PID the
# rest of the machine can signal); nothing else it keeps is visible to the main daemon, nor
# the main daemon's sockets, domains and networks to it. Its QEMU processes live in the same
# namespace, and outlive it, like the main daemon's.
set -euo pipefail
# shellcheck source=lib/running.sh
. "$(dirname "$0")/lib/running.sh"
CONFIG_SOURCE="$(cd "$(dirname "$0")" && pwd)/second-libvirtd"

URI="qemu+tcp://127.0.0.1:16519/system"
PIDFILE=/run/virtdancer-second.pid   # outside every bind mount: the same file seen from both sides

# Each pair: the second host's own folder (as the rest of the machine sees it), then the
# folder of libvirt's that it stands in for inside the namespace.
FOLDERS=(
  /etc/virtdancer-second:/etc/libvirt              # libvirtd.conf, qemu.conf, defined domains
  /var/lib/virtdancer-second:/var/lib/libvirt      # state: monitor sockets, networks' leases
  /var/cache/virtdancer-second:/var/cache/libvirt  # QEMU's probed capabilities
  /var/log/virtdancer-second:/var/log/libvirt      # libvirtd.log, qemu/<domain>.log
  /run/virtdancer-second:/run/libvirt              # libvirt-sock, running domains' status
)

if [ "$(id -u)" -ne 0 ]; then
  echo "start-second-libvirtd: must run as root" >&2
  exit 1
fi
if ! id libvirt-qemu >/dev/null 2>&1; then
  echo "start-second-libvirtd: no libvirt-qemu user; run scripts/start-libvirtd.sh first" >&2
  exit 1
fi

if ! running "$PIDFILE"; then
  for pair in "${FOLDERS[@]}"; do
    mkdir -p "${pair%%:*}" "${pair#*:}"
  done
  # Installed on every start, so that a change to the files in the repository takes effect.
  install -m 0644 "$CONFIG_SOURCE/libvirtd.conf" "$CONFIG_SOURCE/qemu.conf" /etc/virtdancer-second/

  # Private propagation: the bind mounts stay inside the namespace and never reach the
  # machine's own view. libvirtd --daemon returns once it has started (or failed to).
  unshare --mount --propagation private -- /bin/bash -euc '
    pidfile=$1; shift
    for pair in "$@"; do
      mount --bind "${pair%%:*}" "${pair#*:}"
    done
    exec libvirtd --daemon --listen --config /etc/libvirt/libvirtd.conf --pid-file "$pidfile"
  ' start-second-libvirtd "$PIDFILE" "${FOLDERS[@]}"
fi

# Longer than the main daemon's wait: on its first start it probes QEMU's capabilities.
for _ in $(seq 1 150); do
  if virsh -c "$URI" version >/dev/null 2>&1; then
    echo "start-second-libvirtd: the second libvirtd is up at $URI (pid $(cat "$PIDFILE"))"
    exit 0
  fi
  sleep 0.2
done
echo "start-second-libvirtd: the second libvirtd did not answer at $URI within 30 s" \
     "(see /var/log/virtdancer-second/libvirtd.log)" >&2
exit 1
