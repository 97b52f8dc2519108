#!/usr/bin/env bash
# `make test`: the whole check of the serial portal, as CI runs it.
#   1. tools (scripts/tools.sh; installs nothing when the pinned versions are there), then
#      the local API gateway's own test (scripts/gateway_test.py, no Rust, a few seconds)
#   2. throw-away emulators on free ports: DynamoDB Local in memory, a fresh moto
#   3. cargo fmt --check, cargo clippy -D warnings, cargo test (against the emulators)
#   4. scripts/fuzz.sh --short: schemathesis from openapi.yaml against the functions under
#      `cargo lambda watch` (debug build), on the same emulators with a table of its own
#   5. cfn-lint on template.yaml and waf.yaml (the web ACL's stack), sam validate --lint on template.yaml
#   6. browser end-to-end tests of web/ (hook, see step_web_e2e)
# Stops at the first failure; the emulators are stopped whatever happens.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/stack.sh
source "$ROOT/scripts/stack.sh"

export SAM_CLI_TELEMETRY=0
export AWS_REGION=us-east-1
VENV_BIN="$ROOT/.tools/venv/bin"

SUMMARY=()
STATE=""
STEP_PID=""

# shellcheck disable=SC2329 # run by the EXIT trap
cleanup() {
  local rc=$?
  set +e
  trap '' INT TERM HUP # a second Ctrl-C does not cut the cleanup short
  if [[ -n "$STEP_PID" ]] && stack_alive "$STEP_PID"; then
    echo "---- interrupted: stopping the running step (pid $STEP_PID)" >&2
    stack_kill_tree "$STEP_PID"
  fi
  if [[ -n "$STATE" ]]; then
    stack_stop "$STATE"
    rm -rf "$STATE"
  fi
  echo
  echo "==== make test summary"
  printf '%s\n' "${SUMMARY[@]}"
  if ((rc == 0)); then echo "==== all steps passed"; else echo "==== FAILED (exit $rc)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# step NAME CMD... : run CMD, print a banner before and a one-line result after.
# CMD runs as a background job that this shell waits for, so that a signal to this
# script is handled at once (cleanup then stops CMD and everything it started).
step() {
  local name="$1" start rc
  shift
  echo
  echo "==== $name"
  start=$(date +%s)
  "$@" &
  STEP_PID=$!
  set +e
  wait "$STEP_PID"
  rc=$?
  set -e
  STEP_PID=""
  local took=$(($(date +%s) - start))
  if ((rc == 0)); then
    SUMMARY+=("$(printf 'ok    %-34s %5ss' "$name" "$took")")
    echo "---- ok: $name (${took}s)"
  else
    SUMMARY+=("$(printf 'FAIL  %-34s %5ss  (exit %s)' "$name" "$took" "$rc")")
    echo "---- FAILED: $name (exit $rc, ${took}s)" >&2
    exit 1
  fi
}

skip() {
  SUMMARY+=("$(printf 'skip  %-34s        %s' "$1" "$2")")
  echo
  echo "==== $1: skipped ($2)"
}

# Throw-away emulators: state dir and free ports chosen here, in the main shell, so that
# cleanup knows them whatever happens in the step.
mkdir -p "$ROOT/.local"
STATE="$(mktemp -d "$ROOT/.local/test-stack.XXXXXX")"
DYNAMODB_PORT="$(stack_free_port)"
MOTO_PORT="$(stack_free_port)"
while [[ "$MOTO_PORT" == "$DYNAMODB_PORT" ]]; do MOTO_PORT="$(stack_free_port)"; done

start_emulators() {
  stack_start_dynamodb "$STATE" "$DYNAMODB_PORT" &&
    stack_start_moto "$STATE" "$MOTO_PORT" &&
    stack_wait_moto "$STATE" &&
    stack_ses_identity "$MOTO_PORT" "no-reply@portal.example" &&
    stack_event_bus "$MOTO_PORT" "portal-local-events" &&
    stack_totp_key "$MOTO_PORT" "portal-local/totp-key" &&
    stack_wait_dynamodb "$STATE"
}

cargo_test() {
  env AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=local \
    AWS_SECRET_ACCESS_KEY=local \
    AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DYNAMODB_PORT" \
    AWS_ENDPOINT_URL_SESV2="http://127.0.0.1:$MOTO_PORT" \
    AWS_ENDPOINT_URL_SECRETS_MANAGER="http://127.0.0.1:$MOTO_PORT" \
    AWS_ENDPOINT_URL_EVENTBRIDGE="http://127.0.0.1:$MOTO_PORT" \
    AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$MOTO_PORT" \
    MAIL_FROM=no-reply@portal.example \
    cargo test --workspace
}

# fuzz.sh starts and stops `cargo lambda watch` itself (by PID, also when it fails).
fuzz_short() {
  "$ROOT/scripts/fuzz.sh" --short --dynamodb-port "$DYNAMODB_PORT" --moto-port "$MOTO_PORT"
}

need_template() {
  [[ -f "$ROOT/template.yaml" ]] || { echo "template.yaml not found in $ROOT" >&2; return 1; }
}

need_waf_template() {
  [[ -f "$ROOT/waf.yaml" ]] || { echo "waf.yaml not found in $ROOT" >&2; return 1; }
}

cfn_lint() { need_template && need_waf_template && "$VENV_BIN/cfn-lint" template.yaml waf.yaml; }

sam_validate() {
  # --lint runs offline; sam needs a region but no credentials for it.
  need_template && "$VENV_BIN/sam" validate --lint --region "$AWS_REGION" --template template.yaml
}

# ---- the web page: typecheck, unit tests, build, then headless Chromium against
# `vite preview`, whose /api/* goes through the local API gateway to the functions under
# `cargo lambda watch` (as under make dev), on the emulators above, with a freshly seeded
# table of its own (the browser tests change the demo data).
web_checks() {
  (cd "$ROOT/web" && npm ci --no-audit --no-fund --loglevel=error && npm run typecheck && npm test && npm run build)
}

web_e2e() {
  local watch_port web_port gateway_port env_file="$STATE/web-e2e.env" rc
  watch_port="$(stack_free_port)"
  web_port="$(stack_free_port)"
  gateway_port="$(stack_free_port)"
  # Free now but not yet taken: three picks may coincide.
  while [[ "$web_port" == "$watch_port" ]]; do web_port="$(stack_free_port)"; done
  while [[ "$gateway_port" == "$watch_port" || "$gateway_port" == "$web_port" ]]; do gateway_port="$(stack_free_port)"; done
  sh "$ROOT/web/scripts/ensure-chromium.sh"
  # scripts/local.env, pointed at the throw-away emulators, a fresh table and this page.
  sed -e "s#^TABLE_NAME=.*#TABLE_NAME=portal-web-e2e#" \
    -e "s#^AWS_ENDPOINT_URL_DYNAMODB=.*#AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$DYNAMODB_PORT#" \
    -e "s#^AWS_ENDPOINT_URL_SESV2=.*#AWS_ENDPOINT_URL_SESV2=http://127.0.0.1:$MOTO_PORT#" \
    -e "s#^AWS_ENDPOINT_URL_SECRETS_MANAGER=.*#AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:$MOTO_PORT#" \
    -e "s#^AWS_ENDPOINT_URL_EVENTBRIDGE=.*#AWS_ENDPOINT_URL_EVENTBRIDGE=http://127.0.0.1:$MOTO_PORT#" \
    -e "s#^AWS_ENDPOINT_URL_SQS=.*#AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$MOTO_PORT#" \
    -e "s#^SIGNING_KEYS_SECRET=.*#SIGNING_KEYS_SECRET=portal-web-e2e/signing-keys#" \
    -e "s#^PORTAL_URL=.*#PORTAL_URL=http://127.0.0.1:$web_port#" \
    "$ROOT/scripts/local.env" >"$env_file"
  # shellcheck source=scripts/local.env # (a copy of it, written just above)
  (set -a && source "$env_file" && set +a &&
    cargo run -q -p portal-admin -- init && cargo run -q -p portal-admin -- seed-demo &&
    cargo run -q -p portal-admin -- keys rotate --if-missing)
  export PATH="$VENV_BIN:$PATH"
  stack_spawn "$STATE" web-watch cargo lambda watch --ignore-changes \
    --invoke-address 127.0.0.1 --invoke-port "$watch_port" --env-file "$env_file"
  set +e
  stack_start_gateway "$STATE" web-gateway "$gateway_port" "http://127.0.0.1:$watch_port" &&
    stack_spawn "$STATE" web env WEB_HOST=127.0.0.1 WEB_PORT="$web_port" \
      PORTAL_API_URL="http://127.0.0.1:$gateway_port" \
      node "$ROOT/web/node_modules/vite/bin/vite.js" preview "$ROOT/web" &&
    stack_wait "$STATE" web "http://127.0.0.1:$web_port/" 60 &&
    (cd "$ROOT/web" && WEB_URL="http://127.0.0.1:$web_port" MOTO_URL="http://127.0.0.1:$MOTO_PORT" \
      PORTAL_ENV_FILE="$env_file" npm run e2e)
  rc=$?
  set -e
  stack_stop_one "$STATE" web vite
  stack_stop_one "$STATE" web-gateway gateway.py
  stack_stop_one "$STATE" web-watch "lambda watch"
  return "$rc"
}

step_web_e2e() {
  step "web: typecheck, unit tests, build" web_checks
  step "web end-to-end (browser)" web_e2e
}
# -------------------------------------------------------------------------------

step "tools" "$ROOT/scripts/tools.sh"
step "local gateway" "$VENV_BIN/python" "$ROOT/scripts/gateway_test.py"
step "emulators (DynamoDB Local, moto)" start_emulators
step "cargo fmt --check" cargo fmt --all --check
step "cargo clippy -D warnings" cargo clippy --workspace --all-targets -- -D warnings
step "cargo test" cargo_test
step "logs: no secret via runtime loop" "$VENV_BIN/python" "$ROOT/scripts/logs_test.py" --dynamodb-port "$DYNAMODB_PORT" --moto-port "$MOTO_PORT"
step "fuzz --short (schemathesis)" fuzz_short
step "cfn-lint template.yaml waf.yaml" cfn_lint
step "sam validate --lint" sam_validate
step_web_e2e
