#!/usr/bin/env bash
# `make dev`: the portal running locally.
#   - DynamoDB Local on 127.0.0.1:8000, data kept in .local/dynamodb
#   - moto (SES v2, the local mailbox) on 127.0.0.1:5005; read it with `make mail`
#   - the table and the demo data (portal-admin init, seed-demo)
#   - the functions under `cargo lambda watch` on 127.0.0.1:9000 (rebuilt on change)
#   - the local API gateway on 127.0.0.1:3000 (scripts/gateway.py): the API at its
#     production paths, as API Gateway serves it, in front of watch
#   - the web page (Vite) on 127.0.0.1:5173, its /api/* sent to the gateway
# Settings: scripts/local.env, the one place for them (the ports come from its URLs).
# Ctrl-C, or any exit, stops everything this script started, by PID.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/stack.sh
source "$ROOT/scripts/stack.sh"

ENV_FILE="$ROOT/scripts/local.env"
STATE="$ROOT/.local/stack" # same as `scripts/stack.sh status|stop` without --state
WATCH_ADDRESS=127.0.0.1
WATCH_PORT=9000
GATEWAY_PORT=3000 # the port of `sam local start-api`
WEB_PORT=5173

say() { printf '[dev] %s\n' "$*"; }

"$ROOT/scripts/tools.sh"
export PATH="$ROOT/.tools/venv/bin:$PATH" # cargo-lambda (and its zig)
export SAM_CLI_TELEMETRY=0

# The functions' settings, exported for portal-admin here and handed to the functions
# by `cargo lambda watch --env-file` below.
set -a
# shellcheck source=scripts/local.env
source "$ENV_FILE"
set +a
port_of() { local u="${1%/}"; echo "${u##*:}"; }
DYNAMODB_PORT="$(port_of "$AWS_ENDPOINT_URL_DYNAMODB")"
MOTO_PORT="$(port_of "$AWS_ENDPOINT_URL_SESV2")"

# Refuse to start over something else.
busy=0
for p in "$DYNAMODB_PORT:DynamoDB Local" "$MOTO_PORT:moto" "$WATCH_PORT:cargo lambda watch" \
  "$GATEWAY_PORT:the local API gateway" "$WEB_PORT:the web page (Vite)"; do
  if stack_port_in_use "${p%%:*}"; then
    printf '[dev] ERROR: port %s (for %s) is already in use on 127.0.0.1.\n' "${p%%:*}" "${p#*:}" >&2
    busy=1
  fi
done
if ((busy)); then
  if [[ "$(stack_status "$STATE")" == *": running"* ]]; then
    printf '[dev] An earlier stack is still recorded in .local/stack:\n' >&2
    stack_status "$STATE" | sed 's/^/[dev]   /' >&2
    printf '[dev] Stop it with: scripts/stack.sh stop\n' >&2
  else
    printf '[dev] Stop whatever listens there, then run make dev again.\n' >&2
  fi
  exit 1
fi

WATCH_PID=""
# shellcheck disable=SC2329 # run by the EXIT trap
cleanup() {
  local rc=$?
  set +e
  trap '' INT TERM HUP # a second Ctrl-C does not cut the cleanup short
  echo
  say "stopping..."
  stop_web_dev
  stack_stop_one "$STATE" gateway gateway.py
  if [[ -n "$WATCH_PID" ]] && stack_alive "$WATCH_PID"; then
    stack_kill_tree "$WATCH_PID"
    say "stopped cargo lambda watch (pid $WATCH_PID)"
  fi
  rm -f "$STATE/watch.pid"
  stack_stop "$STATE"
  say "stopped (data kept in .local/dynamodb; make clean removes it)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# ---- the web page: Vite's dev server on 127.0.0.1:$WEB_PORT (PORTAL_URL in local.env),
# proxying /api/<route> to the local API gateway, which hands it to the functions.
start_web_dev() {
  if [[ ! -f web/node_modules/.package-lock.json || web/package-lock.json -nt web/node_modules/.package-lock.json ]]; then
    say "installing the web page's packages (npm ci, first run only)..."
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
  fi
  stack_spawn "$STATE" web env WEB_HOST=127.0.0.1 WEB_PORT="$WEB_PORT" \
    PORTAL_API_URL="http://127.0.0.1:$GATEWAY_PORT" VITE_VENDOR_NAME="$VENDOR_NAME" VITE_DOWNLOAD_URL="$DOWNLOAD_URL" \
    node "$ROOT/web/node_modules/vite/bin/vite.js" "$ROOT/web"
  stack_wait "$STATE" web "http://127.0.0.1:$WEB_PORT/" 60
}
# shellcheck disable=SC2329 # called from cleanup
stop_web_dev() { stack_stop_one "$STATE" web vite; }
# ---------------------------------------------------------------------------------------

mkdir -p "$STATE" "$ROOT/.local/dynamodb"
stack_start_dynamodb "$STATE" "$DYNAMODB_PORT" "$ROOT/.local/dynamodb"
stack_start_moto "$STATE" "$MOTO_PORT"
stack_wait_moto "$STATE"
stack_ses_identity "$MOTO_PORT" "$MAIL_FROM"
stack_event_bus "$MOTO_PORT" "$EVENT_BUS_NAME"
stack_totp_key "$MOTO_PORT" "$TOTP_KEY_SECRET"
stack_wait_dynamodb "$STATE"

say "creating the table $TABLE_NAME (portal-admin init; the first build takes a while)..."
cargo run -q -p portal-admin -- init
say "the signing key of validation answers (portal-admin keys rotate --if-missing)..."
cargo run -q -p portal-admin -- keys rotate --if-missing
say "loading the demo data (portal-admin seed-demo)..."
SEED_OUT="$(cargo run -q -p portal-admin -- seed-demo)"
printf '%s\n' "$SEED_OUT" >"$ROOT/.local/demo-login.txt"

# The demo login as seed-demo printed it; the e-mail and password picked out for the curl
# line, from "login: EMAIL / PASSWORD" or from "password: PASSWORD" and the first e-mail.
EMAIL_RE='[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]+'
LOGIN_LINE="$(grep -iE "login.*${EMAIL_RE}[[:space:]]*/[[:space:]]*[^[:space:]]+" <<<"$SEED_OUT" | head -n1 || true)"
if [[ -n "$LOGIN_LINE" ]]; then
  DEMO_EMAIL="$(grep -oE "$EMAIL_RE" <<<"$LOGIN_LINE" | head -n1)"
  DEMO_PASSWORD="$(sed -nE "s#.*${EMAIL_RE}[[:space:]]*/[[:space:]]*([^[:space:]]+).*#\\1#p" <<<"$LOGIN_LINE")"
else
  DEMO_EMAIL="$(grep -oE "$EMAIL_RE" <<<"$SEED_OUT" | head -n1 || true)"
  DEMO_PASSWORD="$(sed -nE 's/.*(password|contraseña)[^:=]*[:=][[:space:]]*"?([^"[:space:]]+)"?.*/\2/Ip' <<<"$SEED_OUT" | head -n1 || true)"
fi
DEMO_EMAIL="${DEMO_EMAIL:-ana@example.com}"
DEMO_PASSWORD="${DEMO_PASSWORD:-<demo password printed above>}"

say "building the functions (cargo build; the first time takes a few minutes)..."
FUNCTION_PACKAGES=()
for f in functions/*/; do FUNCTION_PACKAGES+=(-p "$(basename "$f")"); done
cargo build -q "${FUNCTION_PACKAGES[@]}"
# The gateway starts before watch (which runs last, in the foreground): a request that
# comes before watch is up waits a few seconds for it, then gets a 502.
stack_start_gateway "$STATE" gateway "$GATEWAY_PORT" "http://$WATCH_ADDRESS:$WATCH_PORT" \
  "$TABLE_NAME" "$AWS_ENDPOINT_URL_DYNAMODB"
start_web_dev

API="http://127.0.0.1:$GATEWAY_PORT"
# The routes as the gateway reads them from template.yaml: "METHOD PATH FUNCTION" lines.
ROUTES="$("$STACK_PY" "$ROOT/scripts/gateway.py" --list-routes --template "$ROOT/template.yaml" |
  awk -v api="$API" '{ printf "   %-4s %s%-38s (%s)\n", $1, api, $2, $3 }')"
# shellcheck disable=SC2001 # indent every line
SEED_INDENTED="$(sed 's/^/   /' <<<"$SEED_OUT")"
cat <<INFO

==================================================================== serial portal, local
 API:             $API  (the production paths, routed by template.yaml as API Gateway
                  does; the functions under cargo lambda watch, rebuilt when the code changes)
$ROUTES
 Web page:        http://127.0.0.1:$WEB_PORT/  (log in with the demo login below; its /api/* goes to the API)
 Functions:       http://$WATCH_ADDRESS:$WATCH_PORT/lambda-url/<function><route> still works (cargo lambda
                  watch itself: routeKey \$default, no path parameters, sourceIp always 127.0.0.1)
 DynamoDB Local:  $AWS_ENDPOINT_URL_DYNAMODB  (table $TABLE_NAME, data in .local/dynamodb)
 moto (SES v2):   $AWS_ENDPOINT_URL_SESV2  (sent mail: make mail)
 Logs:            .local/stack/*.log  (the API's requests: .local/stack/gateway.log)
 Demo login (portal-admin seed-demo):
$SEED_INDENTED
 Try:
   curl -s -X POST $API/login -H 'content-type: application/json' \\
     -d '{"email":"$DEMO_EMAIL","password":"$DEMO_PASSWORD"}'
   (add --interface 127.0.0.2 to call from another address: the functions see it as sourceIp)
 Ctrl-C stops everything.
==========================================================================================

INFO

# Each function gets scripts/local.env through --env-file (and inherits this environment).
# Own session (setsid): Ctrl-C reaches this script, whose cleanup stops watch and its children.
setsid cargo lambda watch \
  --invoke-address "$WATCH_ADDRESS" \
  --invoke-port "$WATCH_PORT" \
  --env-file "$ENV_FILE" </dev/null &
WATCH_PID=$!
echo "$WATCH_PID" >"$STATE/watch.pid"
set +e
wait "$WATCH_PID"
rc=$?
set -e
WATCH_PID=""
say "cargo lambda watch ended (exit $rc)"
exit "$rc"
