#!/usr/bin/env bash
# Set up (if needed), start libvirtd, the second test host and the pair of migration test
# hosts, and run every ring of VirtDancer's tests.
# Extra arguments go to pytest, e.g. scripts/test.sh -k actions
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/start-libvirtd.sh
scripts/start-second-libvirtd.sh
scripts/start-migration-hosts.sh
exec .venv/bin/python -m pytest "$@"
