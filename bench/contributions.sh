#!/usr/bin/env bash
# Contributions benchmark: 1 MiB contributions ingested by a collective node (recipient
# check, store, DataRegistry registration, audit) from 4 concurrent members.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench --locked -p hearth-server --bench contributions
