#!/usr/bin/env bash
# schemathesis over every operation of GET /openapi.json, as admin, viewer and tenant, each
# against a fresh demo server (tests/fuzz/). CI runs the bounded run inside scripts/test.sh;
#   scripts/fuzz.sh          the same bounded run alone (30 examples an operation, ~2 min)
#   scripts/fuzz.sh --deep   500 examples an operation, before a release (~20-30 min)
# VIRTDANCER_FUZZ_SEED=N changes the seed, VIRTDANCER_FUZZ_EXAMPLES=N the examples an operation. Other arguments go to pytest (-k tenant).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--deep" ]; then
  export VIRTDANCER_FUZZ=deep
  shift
fi
scripts/setup.sh
exec .venv/bin/python -m pytest -q -p no:cacheprovider tests/fuzz "$@"
