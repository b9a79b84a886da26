#!/usr/bin/env bash
# Install everything VirtDancer and its tests need on Debian 12, into .venv beside this repo.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  # building libvirt-python
  gcc pkg-config libvirt-dev python3-dev python3-venv
  # the real-hypervisor test ring: libvirtd with the QEMU driver
  libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86 libvirt-clients
  # qemu-img, which tests/real/test_pools.py checks volumes with
  qemu-utils
  # the second test host: its libvirtd runs in a mount namespace of its own (unshare, mount)
  util-linux mount
  # the browser tests (tests/browser/): Playwright drives Debian's Chromium
  chromium
  # virtual networks on the real ring (tests/real/test_networks.py): NAT and DHCP
  dnsmasq-base iptables
  # the tiny ISO tests/real/test_devices.py makes at test time and inserts into a CD-ROM drive
  genisoimage
  # the pair of migration hosts (scripts/start-migration-hosts.sh): network namespaces, veths
  # and a bridge, made with `ip`
  iproute2
)

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# noVNC for the console page, from the npm registry into node_modules/ (git-ignored).
if ! command -v npm >/dev/null; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends nodejs npm
fi
npm_stamp=node_modules/.virtdancer-package-lock.sha256
if ! sha256sum --check --status "$npm_stamp" 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  sha256sum package-lock.json > "$npm_stamp"
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# Reinstall only when setup.py (the list of Python dependencies) has changed since last time.
stamp=.venv/.virtdancer-setup.py.sha256
if ! sha256sum --check --status "$stamp" 2>/dev/null; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[testing]"
  sha256sum setup.py > "$stamp"
fi
echo "setup: done (.venv has VirtDancer and its test tools)"
