#!/usr/bin/env bash
# Set up (if needed) and serve VirtDancer on the embedded demo fleet at http://localhost:6543/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/pserve development.ini "$@"
