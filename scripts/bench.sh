#!/usr/bin/env bash
# `make bench`: the bootstraps measured on this machine; the tables are printed and
# written into BENCHMARKS.md (between its `bench` markers; the rest of the file is kept).
#   1. release builds: every function for arm64 (cargo lambda, as deployed) and x86_64
#      (this machine, to run them); the hello-world baseline (bench/hello), the
#      Argon2id timer (bench/argon2) and the SDK request's cost (bench/sdk-cost), all
#      outside the workspace, with the workspace's release profile and target dir;
#      portal-admin (debug) for the fixture
#   2. throw-away emulators on free ports: DynamoDB Local in memory, moto (SES identity,
#      event bus, record-payment's dead-letter queue)
#   3. scripts/bench.py: fixture, cold starts, warm latency, RSS, calls and round trips
#      per request
#
# Settings (environment or make variables):
#   RUNS=30     cold starts per bootstrap          WARM=200   invocations per route
#   COMPARE=1   also build the release profile at the other opt-levels of "s", 3, "z"
#               (profiles bench-o3, ...: two more full builds per architecture, long) and
#               compare sizes, cold starts and Argon2id (BENCHMARKS.md, `opt-levels` markers)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/stack.sh
source "$ROOT/scripts/stack.sh"

RUNS="${RUNS:-30}"
WARM="${WARM:-200}"
COMPARE="${COMPARE:-0}"
VENV_BIN="$ROOT/.tools/venv/bin"
PY="$VENV_BIN/python"
FUNCTIONS=(login recover-password list-subscriptions upgrade-serial validate-serial license-file account send-pending-mail record-payment)
TARGET="$ROOT/target"

say() { printf '[bench] %s\n' "$*"; }

"$ROOT/scripts/tools.sh" --check >/dev/null || "$ROOT/scripts/tools.sh"
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu

# The workspace's [profile.release], as CARGO_PROFILE_RELEASE_* variables: the crates
# under bench/ are their own workspaces, whose profiles Cargo would otherwise take from
# their own manifests.
profile_env() {
  "$PY" - "$ROOT/Cargo.toml" <<'PY'
import sys, tomllib
profile = tomllib.load(open(sys.argv[1], "rb"))["profile"]["release"]
for k, v in profile.items():
    v = str(v).lower() if isinstance(v, bool) else v
    print(f"CARGO_PROFILE_RELEASE_{k.upper().replace('-', '_')}={v}")
PY
}
mapfile -t PROFILE_ENV < <(profile_env)

# Builds a crate under bench/ (own workspace) with the workspace's profile, lock file
# versions and target dir, so it shares the compiled dependencies.
bench_crate() {
  local dir="$1"
  shift
  cp "$ROOT/Cargo.lock" "$ROOT/bench/$dir/Cargo.lock"
  env "${PROFILE_ENV[@]}" CARGO_TARGET_DIR="$TARGET" "$@" --manifest-path "$ROOT/bench/$dir/Cargo.toml"
}

# ---- builds -------------------------------------------------------------------
bins=()
for f in "${FUNCTIONS[@]}"; do bins+=(--bin "$f"); done

say "release x86_64 (cargo build --release)"
cargo build --release --locked "${bins[@]}"
bench_crate hello cargo build --release
bench_crate argon2 cargo build --release
bench_crate sdk-cost cargo build --release

say "release arm64 (cargo lambda build --release --arm64)"
PATH="$VENV_BIN:$PATH" cargo lambda build --release --arm64 --locked "${bins[@]}"
PATH="$VENV_BIN:$PATH" bench_crate hello cargo lambda build --release --arm64

cargo build -q -p portal-admin

# The workspace's opt-level (the release build above), and the others to compare it with.
CURRENT_LEVEL="$(printf '%s\n' "${PROFILE_ENV[@]}" | sed -n 's/^CARGO_PROFILE_RELEASE_OPT_LEVEL=//p')"
OTHER_LEVELS=()
for level in s 3 z; do [[ "$level" != "$CURRENT_LEVEL" ]] && OTHER_LEVELS+=("$level"); done
if [[ "$COMPARE" == 1 ]]; then
  for level in "${OTHER_LEVELS[@]}"; do
    name="bench-o$level"
    var="CARGO_PROFILE_BENCH_O${level^^}"
    lvl=("${var}_INHERITS=release" "${var}_OPT_LEVEL=$level")
    say "profile $name: the release profile at opt-level $level"
    env "${lvl[@]}" cargo build --profile "$name" --locked "${bins[@]}"
    bench_crate hello env "${lvl[@]}" cargo build --profile "$name"
    bench_crate argon2 env "${lvl[@]}" cargo build --profile "$name"
    env "${lvl[@]}" PATH="$VENV_BIN:$PATH" \
      cargo lambda build --profile "$name" --arm64 --locked --lambda-dir "$TARGET/lambda-$name" "${bins[@]}"
  done
fi

# ---- emulators ------------------------------------------------------------------
mkdir -p "$ROOT/.local"
STATE="$(mktemp -d "$ROOT/.local/bench.XXXXXX")"
# shellcheck disable=SC2329 # run by the EXIT trap
cleanup() {
  stack_stop "$STATE" >/dev/null 2>&1 || true
  rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
DYNAMODB_PORT="$(stack_free_port)"
MOTO_PORT="$(stack_free_port)"
while [[ "$MOTO_PORT" == "$DYNAMODB_PORT" ]]; do MOTO_PORT="$(stack_free_port)"; done
say "emulators: DynamoDB Local on $DYNAMODB_PORT, moto on $MOTO_PORT"
stack_start_dynamodb "$STATE" "$DYNAMODB_PORT" >/dev/null
stack_start_moto "$STATE" "$MOTO_PORT" >/dev/null
stack_wait_moto "$STATE" >/dev/null
stack_ses_identity "$MOTO_PORT" "no-reply@portal.example" >/dev/null
stack_event_bus "$MOTO_PORT" "portal-local-events" >/dev/null
stack_totp_key "$MOTO_PORT" "portal-local/totp-key" >/dev/null
# record-payment's dead-letter queue (DEAD_LETTER_QUEUE_URL): the URL moto answers.
DEAD_LETTER_QUEUE_URL="$(AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1 \
  "$STACK_PY" - "$MOTO_PORT" <<'PY'
import sys
import boto3
sqs = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}")
print(sqs.create_queue(QueueName="portal-local-events-dead-letters")["QueueUrl"])
PY
)"
export DEAD_LETTER_QUEUE_URL
say "dead-letter queue: $DEAD_LETTER_QUEUE_URL"
stack_wait_dynamodb "$STATE" >/dev/null

# ---- measurements -------------------------------------------------------------------
"$TARGET/release/argon2-time" 30 >"$STATE/argon2.json"
common=(--dynamodb "http://127.0.0.1:$DYNAMODB_PORT" --moto "http://127.0.0.1:$MOTO_PORT" --runs "$RUNS"
  --state "$STATE/logs" --portal-admin "$TARGET/debug/portal-admin")
X86_DIR="$TARGET/release"
OUT="$ROOT/BENCHMARKS.md"
if [[ -n "${BENCH_PERF:-}" ]]; then
  # A profile of one function's warm run: that bootstrap built unstripped (the release
  # profile otherwise), the others as released; the report goes to the state dir, not
  # BENCHMARKS.md, since one bootstrap is not the released one.
  say "profiling $BENCH_PERF: release profile, unstripped (target/profiling)"
  CARGO_PROFILE_PROFILING_INHERITS=release CARGO_PROFILE_PROFILING_STRIP=false \
    CARGO_PROFILE_PROFILING_DEBUG=line-tables-only cargo build --profile profiling --locked --bin "$BENCH_PERF"
  X86_DIR="$STATE/x86"
  mkdir -p "$X86_DIR"
  for f in "${FUNCTIONS[@]}"; do ln -s "$TARGET/release/$f" "$X86_DIR/$f"; done
  ln -sf "$TARGET/profiling/$BENCH_PERF" "$X86_DIR/$BENCH_PERF"
  OUT="$STATE/BENCHMARKS.md"
fi
"$PY" "$ROOT/scripts/bench.py" report "${common[@]}" --warm "$WARM" --out "$OUT" \
  --x86-dir "$X86_DIR" --arm64-dir "$TARGET/lambda" \
  --hello "$TARGET/release/hello" --hello-arm64 "$TARGET/lambda/hello/bootstrap" \
  --argon2-json "$STATE/argon2.json" --sdk-cost "$TARGET/release/sdk-cost"
if [[ -n "${BENCH_PERF:-}" ]]; then
  perf report -i "$STATE/logs/$BENCH_PERF.perf.data" --no-children --sort dso,symbol --percent-limit 0.7 --stdio \
    2>/dev/null | grep -v '^#' | grep -v '^$' | head -60 | tee "$ROOT/.local/$BENCH_PERF.perf.txt"
  sed -n '/bench:begin/,/bench:end/p' "$OUT" | grep -F "$BENCH_PERF" || true
  say "profile: .local/$BENCH_PERF.perf.txt (BENCH_PERF_CALLS=1 records call graphs)"
fi

if [[ "$COMPARE" == 1 ]]; then
  variants=(--variant "opt-level $CURRENT_LEVEL (Cargo.toml)=$TARGET/release,$TARGET/release/hello,$TARGET/lambda,$TARGET/release/argon2-time")
  for level in "${OTHER_LEVELS[@]}"; do
    d="$TARGET/bench-o$level"
    variants+=(--variant "opt-level $level=$d,$d/hello,$TARGET/lambda-bench-o$level,$d/argon2-time")
  done
  "$PY" "$ROOT/scripts/bench.py" cold "${common[@]}" "${variants[@]}" --block opt-levels
fi
