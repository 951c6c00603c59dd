#!/usr/bin/env bash
# Jobs benchmark: a trivial operation end to end through hearth (signed request to
# result) against a bare `runc run` of the same program and root, interleaved; then
# jobs per second with 8 concurrent clients. Needs root and runc.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench --locked -p hearth-server --bench jobs
