#!/usr/bin/env bash
# `npm start`: the whole system on this machine (bin/local.ts). Installs what is missing first.
# Arguments go to the runner: `npm start -- --port 9090 --xks-port 9443 --state-dir /tmp/km`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-deps.sh
exec node --import tsx bin/local.ts "$@"
