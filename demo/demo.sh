#!/usr/bin/env bash
# demo/demo.sh - install what is missing (.ci/setup), build, run the demo.
# Needs root (network namespaces, tap devices). Changes nothing outside a
# private OVS and xenstored that it starts and removes again.
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."
bash .ci/setup
exec npm run --silent demo
