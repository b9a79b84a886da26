#!/usr/bin/env bash
# Start the second test host, if it is not running already, and wait until it answers at
# qemu+tcp://127.0.0.1:16519/system: a libvirtd of its own beside the main one
# (scripts/start-libvirtd.sh), so tests can prove one VirtDancer manages two real hosts.
#
# It runs in a mount namespace of its own (scripts/lib/namespaced-libvirtd.sh), with folders
# /etc/virtdancer-second, /var/lib/virtdancer-second, /run/virtdancer-second, ... over
# libvirt's, its PID in /run/virtdancer-second.pid. It shares the network: it listens on
# loopback (scripts/second-libvirtd/libvirtd.conf).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=lib/namespaced-libvirtd.sh
. "$here/lib/namespaced-libvirtd.sh"

start_namespaced_libvirtd second "$here/second-libvirtd" qemu+tcp://127.0.0.1:16519/system
