#!/usr/bin/env bash
# Chain benchmark: isActive latency (embedded vs anvil eth_call) and grant submissions/s.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x contracts/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil ]]; then
  npm --prefix contracts install --no-save --no-audit --no-fund
fi
exec cargo bench --locked -p hearth-chain --bench chain
