#!/usr/bin/env bash
# Start the pair of migration test hosts, if they are not running already, and wait until both
# answer: libvirtds of their own at qemu+tcp://10.77.0.2/system (a) and qemu+tcp://10.77.0.3/system
# (b), with distinct host UUIDs, that can migrate VMs to each other (scripts/migration-libvirtd).
#
# Each runs in a mount namespace (scripts/lib/namespaced-libvirtd.sh) and a network namespace
# of its own (vdmig-a, vdmig-b), whose one interface is a veth on the bridge vdmig0; the bridge
# has 10.77.0.1, so this machine (VirtDancer, virsh) reaches both, and they reach each other:
# libvirt's RPC and QEMU's migration stream go between real addresses, as between two machines.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=lib/namespaced-libvirtd.sh
. "$here/lib/namespaced-libvirtd.sh"

BRIDGE=vdmig0
PREFIX=10.77.0
declare -A ADDRESS=([a]=2 [b]=3)

if [ "$(id -u)" -ne 0 ]; then
  echo "start-migration-hosts: must run as root" >&2
  exit 1
fi

if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
  ip link add "$BRIDGE" type bridge
  ip addr add "$PREFIX.1/24" dev "$BRIDGE"
fi
ip link set "$BRIDGE" up

for host in a b; do
  netns="vdmig-$host"
  if ! ip netns list | grep -qw "$netns"; then
    ip netns add "$netns"
  fi
  # The veth's outer end is named after the namespace, its inner end is eth0 in there.
  if ! ip link show "$netns" >/dev/null 2>&1; then
    ip link add "$netns" type veth peer name eth0 netns "$netns"
    ip link set "$netns" master "$BRIDGE" up
    ip -n "$netns" addr add "$PREFIX.${ADDRESS[$host]}/24" dev eth0
  fi
  ip -n "$netns" link set lo up
  ip -n "$netns" link set eth0 up
  start_namespaced_libvirtd "migration-$host" "$here/migration-libvirtd/$host" \
    "qemu+tcp://$PREFIX.${ADDRESS[$host]}/system" "$netns"
done
