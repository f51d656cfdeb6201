#!/usr/bin/env bash
# The test command: installs and starts the local services, then runs every test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=infra/services.sh
source infra/services.sh
cargo test --workspace "$@"
