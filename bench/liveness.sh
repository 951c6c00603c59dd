#!/usr/bin/env bash
# Liveness benchmark: the collective node's verification of one contributor's answer
# (8 challenged chunks of 64 KiB with their Merkle proofs, over a 64 MiB ciphertext's
# commitment), median per contributor. Pure computation, no chain.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench --locked -p hearth-server --bench liveness
