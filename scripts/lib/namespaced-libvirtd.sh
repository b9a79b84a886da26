# Sourced by the start-*.sh scripts of the extra test hosts: `start_namespaced_libvirtd NAME
# CONFIG_FOLDER URI [NETNS]` starts a system libvirtd of its own, unless its pidfile says it
# runs, and waits until it answers at URI.
#
# The system QEMU driver has its folders built in (/etc/libvirt, /var/lib/libvirt,
# /run/libvirt, ...), and no option or setting moves them all. So such a libvirtd runs in a
# mount namespace of its own, where folders of its own (/etc/virtdancer-NAME, ...) are
# bind-mounted over libvirt's. It shares the network (it listens on loopback), or with NETNS
# runs in that network namespace (made by `ip netns add`, with its addresses), and the process
# IDs (its pidfile, /run/virtdancer-NAME.pid, holds a PID the rest of the machine can signal);
# nothing else it keeps is visible to the other daemons. Its QEMU processes live in the same
# namespace, and outlive it, like the main daemon's.
#
# CONFIG_FOLDER holds its libvirtd.conf and qemu.conf, installed on every start so that a change
# to the files in the repository takes effect.

# shellcheck source=running.sh
. "$(dirname "${BASH_SOURCE[0]}")/running.sh"

start_namespaced_libvirtd() {
  local name=$1 config=$2 uri=$3 netns=${4:-}
  local in_netns=()
  [ -z "$netns" ] || in_netns=(ip netns exec "$netns")
  local pidfile="/run/virtdancer-$name.pid"   # outside every bind mount: seen from both sides
  # Each pair: the daemon's own folder (as the rest of the machine sees it), then the folder
  # of libvirt's that it stands in for inside the namespace.
  local folders=(
    "/etc/virtdancer-$name:/etc/libvirt"              # libvirtd.conf, qemu.conf, domains
    "/var/lib/virtdancer-$name:/var/lib/libvirt"      # state: monitor sockets, leases
    "/var/cache/virtdancer-$name:/var/cache/libvirt"  # QEMU's probed capabilities
    "/var/log/virtdancer-$name:/var/log/libvirt"      # libvirtd.log, qemu/<domain>.log
    "/run/virtdancer-$name:/run/libvirt"              # libvirt-sock, running domains
  )
  if [ "$(id -u)" -ne 0 ]; then
    echo "start $name libvirtd: must run as root" >&2
    return 1
  fi
  if ! id libvirt-qemu >/dev/null 2>&1; then
    echo "start $name libvirtd: no libvirt-qemu user; run scripts/start-libvirtd.sh first" >&2
    return 1
  fi
  if ! running "$pidfile"; then
    local pair
    for pair in "${folders[@]}"; do
      mkdir -p "${pair%%:*}" "${pair#*:}"
    done
    install -m 0644 "$config/libvirtd.conf" "$config/qemu.conf" "/etc/virtdancer-$name/"
    # Private propagation: the bind mounts stay inside the namespace and never reach the
    # machine's own view. libvirtd --daemon returns once it has started (or failed to).
    "${in_netns[@]}" unshare --mount --propagation private -- /bin/bash -euc '
      pidfile=$1; shift
      for pair in "$@"; do
        mount --bind "${pair%%:*}" "${pair#*:}"
      done
      exec libvirtd --daemon --listen --config /etc/libvirt/libvirtd.conf --pid-file "$pidfile"
    ' "start-$name-libvirtd" "$pidfile" "${folders[@]}"
  fi
  # Longer than the main daemon's wait: on its first start it probes QEMU's capabilities.
  local _
  for _ in $(seq 1 150); do
    if virsh -c "$uri" version >/dev/null 2>&1; then
      echo "start $name libvirtd: up at $uri (pid $(cat "$pidfile"))"
      return 0
    fi
    sleep 0.2
  done
  echo "start $name libvirtd: no answer at $uri within 30 s" \
       "(see /var/log/virtdancer-$name/libvirtd.log)" >&2
  return 1
}
