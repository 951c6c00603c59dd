#!/usr/bin/env bash
# API benchmark: signed, permission-checked, audited 4 KiB reads at 64 concurrent clients,
# warm and cold permission cache.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench --locked -p hearth-server --bench api
