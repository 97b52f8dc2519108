#!/usr/bin/env python3
"""No secret in the functions' logs, through the Lambda runtime's own loop: the debug
build of the `login` bootstrap, run as Lambda runs it (fresh process, Lambda
environment), gets its events from a fake Lambda Runtime API (scripts/benchkit): a login
of a real account (events/login.json) and a logout with the token it answered
(events/logout.json). A fresh process at each of three RUST_LOG: debug (the most
verbose level template.yaml allows), trace (not allowed, but the cap of
shared/src/telemetry.rs must hold even then: at trace lambda_runtime logs the raw event
and the AWS SDK every request and answer), and those crates named at trace. Their
stdout and stderr must hold neither the password, nor the token, nor "Bearer ", nor
"$argon2id$", and must hold the function's own line for each request, in the runtime's
span of that request (so that a silent process does not pass).

Needs DynamoDB Local and moto running (scripts/stack.sh start; make test passes its own):
    .tools/venv/bin/python scripts/logs_test.py --dynamodb-port 8000 --moto-port 5005
The account is made with portal-admin in a table of its own (portal-logs-<random>). The
logs of a failed run (or of any run, with --keep-logs) are kept and their folder printed.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in scripts/
from benchkit.events import encode, event  # noqa: E402
from benchkit.runtime_api import RuntimeApi  # noqa: E402

# RUST_LOG of each run: the most verbose level template.yaml allows; everything; and the
# crates that log requests named one by one (a directive naming a crate cannot lift the cap).
LEVELS = [
    "debug",
    "trace",
    "info,lambda_runtime=trace,aws_smithy_runtime=trace,aws_sigv4=trace,hyper_util=trace,h2=trace",
]
FUNCTION = "login"


def local_env() -> dict[str, str]:
    """scripts/local.env (KEY=value lines, optionally double-quoted values)."""
    out = {}
    for line in (HERE / "local.env").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        k, _, v = line.partition("=")
        v = v.strip()
        if len(v) >= 2 and v[0] == v[-1] == '"':
            v = v[1:-1]
        out[k.strip()] = v
    return out


def build() -> dict[str, Path]:
    """The debug build of the login bootstrap and of portal-admin: name -> executable."""
    out = subprocess.run(
        ["cargo", "build", "-q", "-p", FUNCTION, "-p", "portal-admin", "--message-format=json-render-diagnostics"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        check=True,
        text=True,
    ).stdout
    exes = {}
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable"):
            exes[msg["target"]["name"]] = Path(msg["executable"])
    missing = {FUNCTION, "portal-admin"} - exes.keys()
    if missing:
        raise SystemExit(f"cargo build made no executable for {sorted(missing)}")
    return exes


class Run:
    def __init__(self, args, exes):
        self.exes = exes
        self.table = f"portal-logs-{secrets.token_hex(4)}"
        self.email = f"logs.{secrets.token_hex(4)}@example.com"
        self.password = f"Lg-{secrets.token_urlsafe(18)}-7q"  # fresh: no chance match in a log
        self.env = local_env()
        self.env.update(
            {
                "PATH": "/usr/local/bin:/usr/bin:/bin",
                "LANG": "en_US.UTF-8",
                "TZ": ":UTC",
                "TABLE_NAME": self.table,
                "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{args.dynamodb_port}",
                "AWS_ENDPOINT_URL_SESV2": f"http://127.0.0.1:{args.moto_port}",
                "RUST_LOG": "warn",
            }
        )

    def admin(self, *argv, stdin=None):
        out = subprocess.run(
            [str(self.exes["portal-admin"]), *argv], env=self.env, input=stdin, capture_output=True, text=True
        )
        if out.returncode != 0:
            raise SystemExit(f"portal-admin {' '.join(argv)}: {out.stderr.strip()}")

    def fixture(self):
        self.admin("init")
        self.admin("account", "add", "--email", self.email, "--name", "Ana Logs", "--company",
                   "Comercial Logs SA de CV", "--password-stdin", stdin=self.password)

    def lambda_env(self, api, level):
        env = dict(self.env)
        env.update(
            {
                "AWS_LAMBDA_RUNTIME_API": api.address,
                "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{FUNCTION}",
                "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/27/[$LATEST]0123456789abcdef",
                "AWS_SESSION_TOKEN": "local",
                "RUST_LOG": level,
            }
        )
        return env

    @staticmethod
    def invoke(api, proc, ev, expect):
        rid = api.queue(encode(ev))
        deadline = time.monotonic() + 30
        while True:
            try:
                _, _, status, body = api.wait(rid, timeout=0.5)
                break
            except RuntimeError as e:  # no answer yet, or an init error
                if "init error" in str(e) or time.monotonic() > deadline:
                    raise
                if proc.poll() is not None:
                    raise RuntimeError(f"{FUNCTION} exited (status {proc.returncode}) without answering") from None
        if status != expect:
            raise AssertionError(f"expected {expect}, answered {status}: {body[:400]!r}")
        return rid, json.loads(body)

    def one_level(self, level, logdir: Path, name: str) -> list[str]:
        """Login then logout on a fresh process at RUST_LOG=level (logs in logdir/name.*);
        what went wrong."""
        out_path, err_path = logdir / f"{name}.stdout", logdir / f"{name}.stderr"
        api = RuntimeApi(function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}")
        try:
            with open(out_path, "wb") as out, open(err_path, "wb") as err:
                proc = subprocess.Popen([str(self.exes[FUNCTION])], env=self.lambda_env(api, level), stdout=out,
                                        stderr=err, stdin=subprocess.DEVNULL)
            try:
                ev = event("login", EMAIL=self.email, PASSWORD=self.password)
                login_rid, answer = self.invoke(api, proc, ev, 200)
                body = answer.get("body") or "{}"
                if answer.get("isBase64Encoded"):
                    body = base64.b64decode(body).decode()
                token = json.loads(body).get("token")
                if not isinstance(token, str) or len(token) < 16:
                    raise AssertionError(f"no token in the login answer: {answer!r}")
                logout_rid, _ = self.invoke(api, proc, event("logout", TOKEN=token), 204)
                time.sleep(0.2)  # the last lines reach the pipe
            finally:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        finally:
            api.close()
        logs = out_path.read_text(errors="replace") + err_path.read_text(errors="replace")
        return check(logs, level, {"password": self.password, "token": token, '"Bearer "': "Bearer ",
                                   "a password hash": "$argon2id$"}, {"logged in": login_rid, "logged out": logout_rid})


def check(logs: str, level: str, secrets_: dict[str, str], expected: dict[str, str]) -> list[str]:
    """Leaks of any of `secrets_` (what -> text), and the lines of `expected` (message ->
    request id of the span it must be in) that are missing."""
    problems = []
    for what, text in secrets_.items():
        at = logs.find(text)
        if at >= 0:
            n = logs.count(text)
            excerpt = logs[max(0, at - 300): at + len(text) + 60]
            for other, hidden in secrets_.items():  # every secret masked, not only this one
                excerpt = excerpt.replace(hidden, f"<<{other}>>")
            problems.append(f"RUST_LOG={level}: {what} in the logs ({n}x), first at:\n    ...{excerpt}...")
    lines = []
    for line in logs.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            pass
    for message, rid in expected.items():
        if not any(
            isinstance(ln, dict) and ln.get("fields", {}).get("message") == message
            and ln.get("span", {}).get("requestId") == rid for ln in lines
        ):
            problems.append(f"RUST_LOG={level}: no {message!r} line in the span of request {rid}: logging is broken")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--dynamodb-port", type=int, required=True)
    ap.add_argument("--moto-port", type=int, required=True)
    ap.add_argument("--keep-logs", action="store_true", help="keep the logs of a passing run too (folder printed)")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # in order with stderr under make test
    t0 = time.monotonic()
    exes = build()
    print(f"built {exes[FUNCTION]} ({time.monotonic() - t0:.1f}s)")
    run = Run(args, exes)
    run.fixture()
    print(f"account {run.email} in table {run.table}")
    logdir = Path(tempfile.mkdtemp(prefix="logs_test."))
    problems = []
    for i, level in enumerate(LEVELS, 1):
        t = time.monotonic()
        try:
            found = run.one_level(level, logdir, f"run{i}")
        except Exception as e:  # the function did not answer as expected
            logs = "".join((logdir / f"run{i}.{s}").read_text(errors="replace") for s in ("stdout", "stderr"))
            tail = "\n".join(logs.splitlines()[-10:]).replace(run.password, "<<password>>")
            print(f"RUST_LOG={level}: {e}\nits last log lines:\n{tail}\nlogs kept in {logdir}", file=sys.stderr)
            return 1
        size = sum((logdir / f"run{i}.{s}").stat().st_size for s in ("stdout", "stderr"))
        verdict = "LEAK or missing lines" if found else "no secret, expected lines present"
        print(f"RUST_LOG={level}: login 200, logout 204, {size} bytes of logs: {verdict} ({time.monotonic() - t:.1f}s)")
        problems += found
    if problems:
        print("\n".join(["", *problems, "", f"logs kept in {logdir}"]), file=sys.stderr)
        return 1
    if args.keep_logs:
        print(f"logs kept in {logdir}")
    else:
        shutil.rmtree(logdir, ignore_errors=True)
    print(f"ok: no password, token, 'Bearer ' or argon2 hash in the logs of {len(LEVELS)} runs "
          f"({time.monotonic() - t0:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
