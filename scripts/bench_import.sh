#!/usr/bin/env bash
# `make bench-import`: 100,000 serials for 40,000 accounts (generated), imported by the
# release `portal-admin` into a throw-away DynamoDB Local (in memory, a free port), timed
# with its peak RSS; then the same file again (nothing to write) and an export. The figures
# are printed and written into BENCHMARKS.md between its `bench-import` markers (the rest
# of the file is kept).
#   SERIALS=100000 ACCOUNTS=40000   the size of the file
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/stack.sh
source "$ROOT/scripts/stack.sh"

SERIALS="${SERIALS:-100000}"
ACCOUNTS="${ACCOUNTS:-40000}"
PY="$ROOT/.tools/venv/bin/python"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

say() { printf '[bench-import] %s\n' "$*"; }

"$ROOT/scripts/tools.sh" --check >/dev/null || "$ROOT/scripts/tools.sh"
say "building the release portal-admin"
cargo build --release --locked -p portal-admin
mkdir -p "$ROOT/.local"
STATE="$(mktemp -d "$ROOT/.local/bench-import.XXXXXX")"
# shellcheck disable=SC2329 # run by the EXIT trap
cleanup() {
  stack_stop "$STATE" >/dev/null 2>&1 || true
  rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
# A copy: another build in the same target dir cannot replace it while it is measured.
cp "$TARGET/release/portal-admin" "$STATE/portal-admin"

PORT="$(stack_free_port)"
say "DynamoDB Local (in memory) on $PORT"
stack_start_dynamodb "$STATE" "$PORT" >/dev/null
say "generating $SERIALS serials for $ACCOUNTS accounts"
"$PY" scripts/bench_import.py generate "$STATE/customers.csv" --serials "$SERIALS" --accounts "$ACCOUNTS"
stack_wait_dynamodb "$STATE" >/dev/null

export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$PORT"
unset AWS_ENDPOINT_URL LEGACY_SERIAL_PATTERN
"$PY" scripts/bench_import.py run --bin "$STATE/portal-admin" --file "$STATE/customers.csv" \
  --table portal-bench-import --accounts "$ACCOUNTS" --write "$ROOT/BENCHMARKS.md"
