#!/usr/bin/env bash
# `make test`: the whole check of the serial portal, as CI runs it.
#   1. tools (scripts/tools.sh; installs nothing when the pinned versions are there)
#   2. throw-away emulators on free ports: DynamoDB Local in memory, a fresh moto
#   3. cargo fmt --check, cargo clippy -D warnings, cargo test (against the emulators)
#   4. cfn-lint and sam validate --lint on template.yaml
#   5. browser end-to-end tests of web/ (hook, see step_web_e2e)
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
    stack_wait_dynamodb "$STATE"
}

cargo_test() {
  env AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=local \
    AWS_SECRET_ACCESS_KEY=local \
    AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DYNAMODB_PORT" \
    AWS_ENDPOINT_URL_SESV2="http://127.0.0.1:$MOTO_PORT" \
    MAIL_FROM=no-reply@portal.example \
    cargo test --workspace
}

need_template() {
  [[ -f "$ROOT/template.yaml" ]] || { echo "template.yaml not found in $ROOT" >&2; return 1; }
}

cfn_lint() { need_template && "$VENV_BIN/cfn-lint" template.yaml; }

sam_validate() {
  # --lint runs offline; sam needs a region but no credentials for it.
  need_template && "$VENV_BIN/sam" validate --lint --region "$AWS_REGION" --template template.yaml
}

# ---- HOOK: browser end-to-end tests of web/ -----------------------------------
# To be filled in with the web/ end-to-end run (headless Chromium against the
# functions under `cargo lambda watch` and the Vite dev server, using the emulators
# started above: $DYNAMODB_PORT, $MOTO_PORT). Until then the step is skipped.
step_web_e2e() {
  skip "web end-to-end (browser)" "not wired yet"
}
# -------------------------------------------------------------------------------

step "tools" "$ROOT/scripts/tools.sh"
step "emulators (DynamoDB Local, moto)" start_emulators
step "cargo fmt --check" cargo fmt --all --check
step "cargo clippy -D warnings" cargo clippy --workspace --all-targets -- -D warnings
step "cargo test" cargo_test
step "cfn-lint template.yaml" cfn_lint
step "sam validate --lint" sam_validate
step_web_e2e
