#!/usr/bin/env bash
# `make load`: many simulated customers and desktop programs against a throw-away local
# stack for a bounded time, then a check of the data they left (scripts/load.py does the
# seeding, the load, the report and the checks; this script owns the processes).
#
# The stack is the one `make test`'s web end-to-end step builds (scripts/test.sh,
# web_e2e): DynamoDB Local in memory and a fresh moto on free ports, the SES identity and
# the event bus, `portal-admin init` + `keys rotate --if-missing` + `seed-demo` (the
# catalog) on a table of its own, the functions under `cargo lambda watch` (debug build,
# no reload) and the local API gateway in front of them. Everything it starts is
# stopped on exit, by PID, also on Ctrl-C or a failure; the logs are kept in
# .local/load-logs/ for a look afterwards.
#
# Settings (environment): LOAD_SECONDS (60), CUSTOMERS (16), PROGRAMS (16),
# LOAD_CONCURRENCY (instances per function under watch, 4), LOAD_SERIALS (upgradable
# serials per account, 12), LOAD_SEED (random seed, default: the time).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/stack.sh
source "$ROOT/scripts/stack.sh"

export AWS_REGION=us-east-1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV_BIN="$ROOT/.tools/venv/bin"
LOAD_SECONDS="${LOAD_SECONDS:-60}"
CUSTOMERS="${CUSTOMERS:-16}"
PROGRAMS="${PROGRAMS:-16}"
LOAD_CONCURRENCY="${LOAD_CONCURRENCY:-4}"
LOAD_SERIALS="${LOAD_SERIALS:-12}"
LOG_DIR="$ROOT/.local/load-logs"

say() { printf '[load] %s\n' "$*"; }

"$ROOT/scripts/tools.sh" >/dev/null
export PATH="$VENV_BIN:$PATH" # cargo-lambda (and its zig)

mkdir -p "$ROOT/.local"
STATE="$(mktemp -d "$ROOT/.local/load-stack.XXXXXX")"
RUN_PID=""

# shellcheck disable=SC2317,SC2329 # run by the EXIT trap
cleanup() {
  local rc=$?
  set +e
  trap '' INT TERM HUP # a second Ctrl-C does not cut the cleanup short
  if [[ -n "$RUN_PID" ]] && stack_alive "$RUN_PID"; then
    say "interrupted: stopping the load (pid $RUN_PID)"
    stack_kill_tree "$RUN_PID"
  fi
  stack_stop_one "$STATE" gateway gateway.py
  stack_stop_one "$STATE" watch "lambda watch"
  stack_stop "$STATE"
  rm -rf "$LOG_DIR" && mkdir -p "$LOG_DIR" && cp "$STATE"/*.log "$LOG_DIR"/ 2>/dev/null
  rm -rf "$STATE"
  say "stopped everything it started (logs: .local/load-logs/)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# Four free ports; a free port is not yet taken, so two picks may coincide.
PORTS=()
while ((${#PORTS[@]} < 4)); do
  p="$(stack_free_port)"
  [[ " ${PORTS[*]} " == *" $p "* ]] || PORTS+=("$p")
done
DYNAMODB_PORT="${PORTS[0]}" MOTO_PORT="${PORTS[1]}" WATCH_PORT="${PORTS[2]}" GATEWAY_PORT="${PORTS[3]}"

stack_start_dynamodb "$STATE" "$DYNAMODB_PORT"
stack_start_moto "$STATE" "$MOTO_PORT"
stack_wait_moto "$STATE"
stack_ses_identity "$MOTO_PORT" "no-reply@portal.example"
stack_event_bus "$MOTO_PORT" "portal-local-events"
stack_totp_key "$MOTO_PORT" "portal-local/totp-key"
stack_wait_dynamodb "$STATE"

# scripts/local.env, pointed at the throw-away emulators and a table of its own.
ENV_FILE="$STATE/load.env"
sed -e "s#^TABLE_NAME=.*#TABLE_NAME=portal-load#" \
  -e "s#^AWS_ENDPOINT_URL_DYNAMODB=.*#AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$DYNAMODB_PORT#" \
  -e "s#^AWS_ENDPOINT_URL_SESV2=.*#AWS_ENDPOINT_URL_SESV2=http://127.0.0.1:$MOTO_PORT#" \
  -e "s#^AWS_ENDPOINT_URL_SECRETS_MANAGER=.*#AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:$MOTO_PORT#" \
  -e "s#^AWS_ENDPOINT_URL_EVENTBRIDGE=.*#AWS_ENDPOINT_URL_EVENTBRIDGE=http://127.0.0.1:$MOTO_PORT#" \
  -e "s#^AWS_ENDPOINT_URL_SQS=.*#AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$MOTO_PORT#" \
  -e "s#^SIGNING_KEYS_SECRET=.*#SIGNING_KEYS_SECRET=portal-load/signing-keys#" \
  -e "s#^RUST_LOG=.*#RUST_LOG=warn#" \
  "$ROOT/scripts/local.env" >"$ENV_FILE"

# Built before the clock starts, so that no request of the run waits for a compile
# (--ignore-changes: no rebuild mid-run either). One package at a time, as watch's
# `cargo run --bin <function>` builds it: built together, the packages' features of
# `shared` would unify into another build, and watch would compile its own anyway.
say "building portal-admin and the functions (debug; the first time takes a few minutes)..."
for p in portal-admin functions/*/; do cargo build -q -p "$(basename "$p")"; done
ADMIN="$CARGO_TARGET_DIR/debug/portal-admin"

# shellcheck source=scripts/local.env # (a copy of it, written just above)
(set -a && source "$ENV_FILE" && set +a &&
  "$ADMIN" init && "$ADMIN" keys rotate --if-missing && "$ADMIN" seed-demo >/dev/null)

stack_spawn "$STATE" watch cargo lambda watch --ignore-changes --concurrency "$LOAD_CONCURRENCY" \
  --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT" --env-file "$ENV_FILE"
stack_start_gateway "$STATE" gateway "$GATEWAY_PORT" "http://127.0.0.1:$WATCH_PORT" \
  portal-load "http://127.0.0.1:$DYNAMODB_PORT"

say "the API: http://127.0.0.1:$GATEWAY_PORT (watch --concurrency $LOAD_CONCURRENCY); load for ${LOAD_SECONDS}s"
# A background job this shell waits for, so that Ctrl-C reaches the trap at once.
# shellcheck source=scripts/local.env # (a copy of it)
(set -a && source "$ENV_FILE" && set +a &&
  exec "$VENV_BIN/python" "$ROOT/scripts/load.py" \
    --api "http://127.0.0.1:$GATEWAY_PORT" \
    --dynamodb "http://127.0.0.1:$DYNAMODB_PORT" \
    --moto "http://127.0.0.1:$MOTO_PORT" \
    --admin "$ADMIN" \
    --seconds "$LOAD_SECONDS" --customers "$CUSTOMERS" --programs "$PROGRAMS" \
    --serials "$LOAD_SERIALS" --concurrency "$LOAD_CONCURRENCY" \
    ${LOAD_SEED:+--seed "$LOAD_SEED"} \
    --report "$ROOT/.local/load-report.md") &
RUN_PID=$!
set +e
wait "$RUN_PID"
rc=$?
set -e
RUN_PID=""
exit "$rc"
