#!/usr/bin/env bash
# The deterministic simulation of the ledger: ./infra/simulate.sh [--seeds N] [--seed S]
# Its last line is `simulation: N seeds, F failed`; a failing seed replays with --seed S.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo run --quiet -p partnerhook-sim -- "$@"
