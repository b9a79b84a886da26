#!/usr/bin/env bash
# Set up (if needed), start libvirtd and the second test host, and run every ring of
# VirtDancer's tests.
# Extra arguments go to pytest, e.g. scripts/test.sh -k actions
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/start-libvirtd.sh
scripts/start-second-libvirtd.sh
exec .venv/bin/python -m pytest "$@"
