#!/usr/bin/env bash
# Runs the SAM CLI with the tools a Docker-free `sam build` needs (aws-sam-cli, cargo-lambda,
# Zig), installed once into infra/.local/samvenv. Usage: infra/sam.sh validate --lint
set -euo pipefail

AWS_SAM_CLI_VERSION=1.170.0
CARGO_LAMBDA_VERSION=1.9.2
ZIGLANG_VERSION=0.17.1

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/infra/.local/samvenv"
if [ ! -x "$venv/bin/sam" ] || [ ! -x "$venv/bin/cargo-lambda" ]; then
  echo "Installing aws-sam-cli $AWS_SAM_CLI_VERSION, cargo-lambda $CARGO_LAMBDA_VERSION, ziglang $ZIGLANG_VERSION ..."
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "aws-sam-cli==$AWS_SAM_CLI_VERSION" "cargo-lambda==$CARGO_LAMBDA_VERSION" "ziglang==$ZIGLANG_VERSION"
fi
export PATH="$venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0
cd "$root"
exec sam "$@"
