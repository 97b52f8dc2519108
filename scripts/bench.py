#!/usr/bin/env python3
"""The measuring half of `make bench` (scripts/bench.sh builds the binaries, starts
throw-away emulators and calls this). Standard library only.

Each bootstrap runs as Lambda runs it: a fresh process with the Lambda environment
(no SSL_CERT_* variables, no HOME), talking to a local Lambda Runtime API served here.
The functions reach DynamoDB Local and moto through timing proxies, also served here,
which count the calls of each invocation and the time spent waiting on them.

  bench.py report  ...   every measurement; prints the tables and writes BENCHMARKS.md
  bench.py cold    ...   cold start only, of several builds side by side (--variant)

Measurements:
  size        bytes of each bootstrap (release, stripped), arm64 and x86_64
  cold start  process start to the first answer, through the Runtime API, of a request
              that needs no store call (401/400), median of --runs; the hello-world of the
              same build answers the same event in the same loop
  first real  the first request that uses the store, on a fresh process (new connection)
  warm        --warm invocations of one route on one process, after one warm-up:
              latency = Runtime API `next` answered -> `response` received
              store   = time spent inside DynamoDB / SES exchanges, seen at the proxies
              own     = latency - store - the hello-world's median latency (the runtime
                        and this emulator's share)
  peak RSS    VmHWM of the process after its warm run
"""

import argparse
import datetime
import gc
import json
import os
import platform
import queue
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
NS = 1_000_000  # ns per ms

FUNCTIONS = ["login", "recover-password", "list-subscriptions", "upgrade-serial", "validate-serial", "send-pending-mail"]
# MemorySize in template.yaml (the Lambda sets AWS_LAMBDA_FUNCTION_MEMORY_SIZE from it).
MEMORY = {"login": 1024, "recover-password": 1024, "send-pending-mail": 256}

PASSWORD = "Bench-password-2026"
COMPANY = "Comercial Bench SA de CV"


def now_ns():
    return time.perf_counter_ns()


# ----------------------------------------------------------------------------- HTTP bits


def read_head(rfile, arrived=None):
    """Reads an HTTP head (start line + headers) from a buffered reader; None at EOF.
    `arrived`, a list, gets the time its first line came in."""
    lines = []
    while True:
        line = rfile.readline(65537)
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            if not lines:
                continue
            return lines
        if not lines and arrived is not None:
            arrived.append(now_ns())
        lines.append(line)


def headers_of(lines):
    out = {}
    for line in lines[1:]:
        k, _, v = line.decode("latin-1").partition(":")
        out[k.strip().lower()] = v.strip()
    return out


def read_body(rfile, headers, until_close=False):
    """The raw body bytes (chunked framing kept as is) and the decoded body."""
    if "content-length" in headers:
        data = rfile.read(int(headers["content-length"]))
        return data, data
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raw, body = bytearray(), bytearray()
        while True:
            size_line = rfile.readline()
            raw += size_line
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the empty line
                    t = rfile.readline()
                    raw += t
                    if t in (b"\r\n", b"\n", b""):
                        return bytes(raw), bytes(body)
            chunk = rfile.read(size + 2)
            raw += chunk
            body += chunk[:size]
    if until_close:
        data = rfile.read()
        return data, data
    return b"", b""


# --------------------------------------------------------------------- Lambda Runtime API


class RuntimeApi:
    """A Lambda Runtime API for one process: hands out queued events, times the answers.

    A fresh instance per process, so a `next` left waiting by a killed process never
    takes an event meant for the next one."""

    def __init__(self, function_arn="arn:aws:lambda:us-east-1:123456789012:function:bench", timeout_s=10):
        self.events = queue.Queue()
        self.sent = {}  # request id -> ns when its event was handed out
        self.answers = {}  # request id -> (ns answered, status, body)
        self.next_at = []  # ns of every `next` received
        self.cond = threading.Condition()
        self.arn = function_arn
        self.timeout_s = timeout_s
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    return self.reply(404, b"{}")
                with api.cond:
                    api.next_at.append(now_ns())
                item = api.events.get()
                if item is None:  # closed
                    api.events.put(None)
                    self.close_connection = True
                    return
                rid, body = item
                deadline = int(time.time() * 1000) + api.timeout_s * 1000
                head = (
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Lambda-Runtime-Aws-Request-Id: {rid}\r\n"
                    f"Lambda-Runtime-Deadline-Ms: {deadline}\r\n"
                    f"Lambda-Runtime-Invoked-Function-Arn: {api.arn}\r\n"
                    f"Lambda-Runtime-Trace-Id: Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Sampled=0\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode()
                with api.cond:
                    api.sent[rid] = now_ns()
                self.wfile.write(head + body)
                self.wfile.flush()

            def do_POST(self):
                heads = {k.lower(): v for k, v in self.headers.items()}
                _, body = read_body(self.rfile, heads)
                at = now_ns()
                m = re.search(r"/runtime/invocation/([^/]+)/(response|error)$", self.path)
                if m:
                    status = None
                    if m.group(2) == "response":
                        try:
                            status = json.loads(body).get("statusCode")
                        except ValueError:
                            status = None
                    else:
                        status = "error"
                    with api.cond:
                        api.answers[m.group(1)] = (at, status, body)
                        api.cond.notify_all()
                elif self.path.endswith("/runtime/init/error"):
                    with api.cond:
                        api.answers["init"] = (at, "init error", body)
                        api.cond.notify_all()
                self.reply(202, b'{"status":"OK"}')

            def reply(self, code, body):
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a killed process resets its connection: expected

        self.server = Server(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def queue(self, event: bytes) -> str:
        rid = str(uuid.uuid4())
        self.events.put((rid, event))
        return rid

    def wait(self, rid, timeout=30):
        """(ns the event was handed out, ns answered, status, body) of one invocation."""
        with self.cond:
            ok = self.cond.wait_for(lambda: rid in self.answers or "init" in self.answers, timeout)
            if not ok:
                raise RuntimeError(f"no answer to {rid} within {timeout}s")
            if "init" in self.answers:
                raise RuntimeError(f"init error: {self.answers['init'][2][:300]!r}")
            at, status, body = self.answers[rid]
            return self.sent.get(rid), at, status, body

    def close(self):
        self.events.put(None)
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------------ timing proxy


class TimingProxy:
    """An HTTP/1.1 proxy (keep-alive kept on both sides) that records every exchange:
    (ns the request was read, ns the answer was passed on, operation)."""

    def __init__(self, upstream_url):
        host, port = upstream_url.removeprefix("http://").rstrip("/").split(":")
        self.upstream = (host, int(port))
        self.records = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, client):
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        crf = client.makefile("rb")
        up = urf = None
        try:
            while True:
                arrived = []
                head = read_head(crf, arrived)
                if head is None:
                    return
                h = headers_of(head)
                raw_body, _ = read_body(crf, h)
                op = h.get("x-amz-target", "").rpartition(".")[2] or head[0].decode().split(" ")[1].split("?")[0]
                # From the request's arrival: the proxy's parsing is its share, not the function's.
                record = [arrived[0], None, op]
                with self.lock:
                    self.records.append(record)
                if up is None:
                    up = socket.create_connection(self.upstream)
                    up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    urf = up.makefile("rb")
                up.sendall(b"".join(head) + b"\r\n" + raw_body)
                rhead = read_head(urf)
                if rhead is None:
                    return
                rh = headers_of(rhead)
                status = int(rhead[0].split()[1])
                no_body = status in (204, 304) or 100 <= status < 200
                rraw, _ = (b"", b"") if no_body else read_body(urf, rh, until_close=True)
                client.sendall(b"".join(rhead) + b"\r\n" + rraw)
                record[1] = now_ns()
                if rh.get("connection", "").lower() == "close" or h.get("connection", "").lower() == "close":
                    return
        except OSError:
            return
        finally:
            client.close()
            if up is not None:
                up.close()

    def between(self, start, end):
        """The exchanges that began in [start, end], their ends capped at `end` (the proxy
        thread may note an end after the function, already answered, told the Runtime API:
        it is waited for, briefly)."""
        deadline = time.monotonic() + 0.5
        while True:
            with self.lock:
                found = [r for r in self.records if start <= r[0] <= end]
            if all(r[1] is not None for r in found) or time.monotonic() > deadline:
                return [(s, min(e if e is not None else end, end), op) for s, e, op in found]
            time.sleep(0.0001)


# ---------------------------------------------------------------------------- events


def event(name, **vars):
    """An API Gateway HTTP API v2 event from events/<name>.json, placeholders filled in."""
    text = (EVENTS / f"{name}.json").read_text()
    for k, v in vars.items():
        text = text.replace("{{" + k + "}}", v)
    if "{{" in text:
        raise ValueError(f"events/{name}.json: placeholder left: {re.findall(r'{{[A-Z_]+}}', text)}")
    return json.loads(text)


def with_body(ev, body):
    ev = dict(ev)
    ev["body"] = body
    return ev


def encode(ev):
    return json.dumps(ev).encode()


# --------------------------------------------------------------------------- processes


class Bench:
    def __init__(self, args):
        self.args = args
        self.ddb = TimingProxy(args.dynamodb)
        self.ses = TimingProxy(args.moto)
        self.logdir = Path(args.state)
        self.logdir.mkdir(parents=True, exist_ok=True)

    def env(self, name, api):
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(MEMORY.get(name, 256)),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/27/[$LATEST]0123456789abcdef",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "AWS_ENDPOINT_URL_DYNAMODB": self.ddb.url,
            "AWS_ENDPOINT_URL_SESV2": self.ses.url,
            "TABLE_NAME": self.args.table,
            "MAIL_FROM": "no-reply@portal.example",
            "PORTAL_URL": "http://127.0.0.1:5173",
            "VENDOR_NAME": "Aspel",
            "SUPPORT_PHONE": "800 277 3735",
            "DISTRIBUTOR_URL": "https://www.aspel.com.mx/distribuidores",
            "RUST_LOG": "info",
        }

    def start(self, name, binary, api):
        log = open(self.logdir / f"{name}.log", "ab")
        t0 = now_ns()
        proc = subprocess.Popen([str(binary)], env=self.env(name, api), stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        return proc, t0

    @staticmethod
    def stop(proc):
        proc.kill()
        proc.wait()

    @staticmethod
    def cpu_ms(proc):
        """CPU time of every thread of the process so far (schedstat: ns on a CPU)."""
        total = 0
        for task in Path(f"/proc/{proc.pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                pass
        return total / NS

    @staticmethod
    def vmhwm_mb(proc):
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def invoke(self, api, ev, expect):
        rid = api.queue(encode(ev))
        sent, at, status, body = api.wait(rid)
        if expect is not None and status != expect:
            raise RuntimeError(f"expected {expect}, got {status}: {body[:400]!r}")
        return sent, at, body

    def cold(self, name, binary, first, real=None):
        """One cold start: ms to the first answer, and ms of the first real request."""
        api = RuntimeApi()
        try:
            rid = api.queue(encode(first[0]))
            proc, t0 = self.start(name, binary, api)
            try:
                _, at, status, body = api.wait(rid)
                if status != first[1]:
                    raise RuntimeError(f"{name}: first answer {status}, expected {first[1]}: {body[:300]!r}")
                cpu = self.cpu_ms(proc)
                init_calls = len(self.ddb.between(t0, at))
                init_ms = (api.next_at[0] - t0) / NS
                real_ms = None
                if real is not None:
                    ev, expect = real()
                    sent, done, _ = self.invoke(api, ev, expect)
                    real_ms = (done - sent) / NS
                return (at - t0) / NS, init_ms, cpu, real_ms, init_calls
            finally:
                self.stop(proc)
        finally:
            api.close()

    def warm(self, name, binary, make_event, expect, n, after=None):
        """n timed invocations on one process after one warm-up; per invocation
        (latency ms, DynamoDB calls, SES calls, ms waiting on them); and peak RSS (after
        `after(api)`, if given, has run more requests on the process)."""
        api = RuntimeApi()
        try:
            proc, _ = self.start(name, binary, api)
            try:
                self.invoke(api, make_event(), expect)
                rows = []
                gc.collect()
                gc.disable()
                for _ in range(n):
                    sent, at, _ = self.invoke(api, make_event(), expect)
                    ddb = self.ddb.between(sent, at)
                    ses = self.ses.between(sent, at)
                    waited = sum(e - s for s, e, _ in ddb + ses)
                    rows.append(((at - sent) / NS, len(ddb), len(ses), waited / NS, [op for _, _, op in ddb]))
                gc.enable()
                if after is not None:
                    after(api)
                return rows, self.vmhwm_mb(proc)
            finally:
                self.stop(proc)
        finally:
            api.close()


# --------------------------------------------------------------------------- fixture


class Fixture:
    """Accounts and serials loaded with portal-admin (the operators' tool) into the table."""

    def __init__(self, args, bench):
        self.args = args
        self.bench = bench
        self.env = Fixture.admin_env(args)
        self.email = "ana.bench@example.com"
        self.upgrader = "luis.bench@example.com"
        self.resetter = "eva.bench@example.com"
        self.admin("init")
        self.admin("seed-demo")  # the catalog: SAE 8.0, NOI 11.0, COI 10.0, BANCO 6.0
        for email in (self.email, self.upgrader, self.resetter):
            self.admin("account", "add", "--email", email, "--name", "Ana Bench", "--company", COMPANY,
                       "--password-stdin", stdin=PASSWORD)
        today = datetime.date.today()
        later = lambda d: str(today + datetime.timedelta(days=d))  # noqa: E731
        earlier = lambda d: str(today - datetime.timedelta(days=d))  # noqa: E731
        # The list: what a customer of the walkthrough has.
        for system, version, plan, billing, nxt in [
            ("SAE", "7.0", "subscription", "monthly", later(13)),
            ("NOI", "11.0", "subscription", "annual", later(200)),
            ("COI", "10.0", "license", None, None),
            ("BANCO", "5.0", "subscription", "semiannual", later(40)),
            ("SAE", "8.0", "subscription", "annual", later(90)),
        ]:
            extra = ["--billing", billing, "--next-payment-on", nxt] if billing else []
            serial = self.admin("subscription", "add", "--email", self.email, "--system", system, "--version",
                                version, "--users", "2", "--plan", plan, "--activated-on", earlier(300), *extra)
            if system == "NOI":
                self.validate_serial = serial
        # Upgradable serials, one per upgrade measured.
        self.upgradable = []
        n = args.warm + 1 + args.runs
        jobs = [None] * n

        def add(i):
            jobs[i] = self.admin("subscription", "add", "--email", self.upgrader, "--system", "SAE", "--version",
                                 "7.0", "--users", "1", "--plan", "subscription", "--billing", "monthly",
                                 "--next-payment-on", later(13), "--activated-on", earlier(100))

        threads = []
        for i in range(n):
            t = threading.Thread(target=add, args=(i,))
            t.start()
            threads.append(t)
            if len(threads) >= 4:
                threads.pop(0).join()
        for t in threads:
            t.join()
        self.upgradable = list(jobs)

    @staticmethod
    def table_only(args):
        """The table and the catalog only (what a cold start reads)."""
        fx = Fixture.__new__(Fixture)
        fx.args = args
        fx.env = Fixture.admin_env(args)
        fx.admin("init")
        fx.admin("seed-demo")

    @staticmethod
    def admin_env(args):
        env = dict(os.environ)
        env.update(
            {
                "TABLE_NAME": args.table,
                "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_ENDPOINT_URL_DYNAMODB": args.dynamodb,
                "AWS_ENDPOINT_URL_SESV2": args.moto,
                "RUST_LOG": "warn",
            }
        )
        return env

    def admin(self, *argv, stdin=None):
        out = subprocess.run([self.args.portal_admin, *argv], env=self.env, input=stdin, capture_output=True,
                             text=True)
        if out.returncode != 0:
            raise RuntimeError(f"portal-admin {' '.join(argv)}: {out.stderr.strip()}")
        return out.stdout.strip()


def reset_token(moto, to):
    """The token of the newest password-reset link mailed to `to` (moto keeps the mail)."""
    import urllib.request

    data = json.loads(urllib.request.urlopen(moto.rstrip("/") + "/moto-api/data.json", timeout=10).read())
    bodies = []

    def walk(v):
        if isinstance(v, list):
            for m in v:
                if isinstance(m, dict) and to in json.dumps(m.get("destinations", {})):
                    bodies.append(m.get("body", ""))
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)

    walk(data.get("ses", {}).get("Message", []))
    tokens = [m.group(1) for b in bodies for m in [re.search(r"/password-reset\?token=([A-Za-z0-9_-]+)", b)] if m]
    if not tokens:
        raise RuntimeError(f"no reset mail for {to} in moto")
    return tokens[-1]


# ---------------------------------------------------------------------------- report


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, -(-len(s) * p // 100) - 1))]


def fmt_ms(v):
    return "n/a" if v is None else (f"{v:.2f}" if v < 10 else f"{v:.1f}")


def size_of(path):
    return Path(path).stat().st_size if path and Path(path).exists() else None


def fmt_size(b):
    return "n/a" if b is None else f"{b / 1024 / 1024:.2f} MiB"


def cold_events(fx_token=None):
    """Per function: the store-free first request (and what it answers)."""
    login = event("login", EMAIL="ana.bench@example.com", PASSWORD=PASSWORD)
    reset = event("password-reset", EMAIL="nobody.bench@example.com")
    return {
        "hello": (event("subscriptions-no-token"), 200),
        "login": (with_body(login, "{"), 400),
        "recover-password": (with_body(reset, "{"), 400),
        "list-subscriptions": (event("subscriptions-no-token"), 401),
        "upgrade-serial": (event("upgrade-no-token", SERIAL="SKSNWR4TQD", TERMS_VERSION="2022-10"), 401),
        "validate-serial": (event("validate-bad-check-character", COMPANY=COMPANY), 400),
        "send-pending-mail": ({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}, None),
    }


def measure_cold(bench, builds, runs, real_for=None):
    """builds: label -> {name: binary}. Interleaved: every binary once per round; the
    order of the builds alternates between rounds. Python's garbage collector runs
    between processes only, never while one is timed."""
    firsts = cold_events()
    out = {label: {name: {"cold": [], "init": [], "cpu": [], "real": [], "init_calls": []} for name in bins}
           for label, bins in builds.items()}
    order = list(builds.items())
    gc.disable()
    try:
        for round_ in range(runs):
            for label, bins in order if round_ % 2 == 0 else order[::-1]:
                for name, binary in bins.items():
                    gc.collect()
                    real = real_for.get(name) if real_for else None
                    cold, init, cpu, real_ms, calls = bench.cold(name, binary, firsts[name], real)
                    r = out[label][name]
                    r["cold"].append(cold)
                    r["init"].append(init)
                    r["cpu"].append(cpu)
                    r["init_calls"].append(calls)
                    if real_ms is not None:
                        r["real"].append(real_ms)
    finally:
        gc.enable()
    return out


def machine():
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "rustc": rustc,
        "commit": commit + (" (with local changes)" if dirty else ""),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def replace_block(path, name, text):
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{text.rstrip()}\n{end}"
    current = path.read_text() if path.exists() else ""
    if begin in current and end in current:
        pre, rest = current.split(begin, 1)
        _, post = rest.split(end, 1)
        path.write_text(pre + block + post)
    else:
        path.write_text((current.rstrip() + "\n\n" if current.strip() else "") + block + "\n")


def report(args):
    bench = Bench(args)
    print("bench: loading the fixture with portal-admin ...", flush=True)
    fx = Fixture(args, bench)
    x86 = {name: Path(args.x86_dir) / name for name in FUNCTIONS}
    hello = Path(args.hello)

    # A token for the authenticated routes, from a real login.
    api = RuntimeApi()
    proc, _ = bench.start("login", x86["login"], api)
    try:
        _, _, body = bench.invoke(api, event("login", EMAIL=fx.email, PASSWORD=PASSWORD), 200)
        token = json.loads(json.loads(body)["body"])["token"]
        _, _, body = bench.invoke(api, event("login", EMAIL=fx.upgrader, PASSWORD=PASSWORD), 200)
        up_token = json.loads(json.loads(body)["body"])["token"]
    finally:
        bench.stop(proc)
        api.close()

    upgradable = iter(fx.upgradable)
    real = {
        "login": lambda: (event("login", EMAIL=fx.email, PASSWORD=PASSWORD), 200),
        "recover-password": lambda: (event("password-reset", EMAIL="nobody.bench@example.com"), 202),
        "list-subscriptions": lambda: (event("subscriptions", TOKEN=token), 200),
        "upgrade-serial": lambda: (event("upgrade", TOKEN=up_token, SERIAL=next(upgradable), TERMS_VERSION="2022-10"),
                                   201),
        "validate-serial": lambda: (event("validate", SERIAL=fx.validate_serial, COMPANY=COMPANY), 200),
        "send-pending-mail": lambda: ({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}, None),
    }
    print(f"bench: cold starts, {args.runs} rounds of {len(x86) + 1} processes ...", flush=True)
    cold = measure_cold(bench, {"x": {"hello": hello, **x86}}, args.runs, real)["x"]

    def reset_and_confirm(api):
        """A real reset: the mail's link, then the new password (one Argon2id hash)."""
        bench.invoke(api, event("password-reset", EMAIL=fx.resetter), 202)
        token = reset_token(args.moto, fx.resetter)
        bench.invoke(api, event("password-reset-confirm", TOKEN=token, PASSWORD="Bench-password-2027"), 204)

    # (route, function, request maker, invocations, hook before the RSS is read, own time meaningful)
    routes = [
        ("POST /login", "login", real["login"], args.warm, None, True),
        ("GET /subscriptions", "list-subscriptions", real["list-subscriptions"], args.warm, None, True),
        ("POST /subscriptions/{serial}/upgrade", "upgrade-serial", real["upgrade-serial"], args.warm, None, True),
        ("POST /serials/{serial}/validate", "validate-serial", real["validate-serial"], args.warm, None, True),
        # Answers no sooner than RESET_ANSWER_FLOOR (600 ms), whatever the work: timed a few
        # times only; then one real reset and confirm before the RSS is read.
        ("POST /password-reset (unknown e-mail)", "recover-password", real["recover-password"], min(args.warm, 10),
         reset_and_confirm, False),
        ("send-pending-mail (empty outbox)", "send-pending-mail", real["send-pending-mail"], args.warm, None, True),
    ]
    print(f"bench: warm, {args.warm} invocations per route ...", flush=True)
    base_rows, hello_rss = bench.warm("hello", hello, lambda: event("subscriptions-no-token"), 200, args.warm)
    base = [r[0] for r in base_rows]
    base_p50 = statistics.median(base)
    warm = []
    rss = {"hello": hello_rss}
    for route, name, make, n, after, own_ok in routes:
        ev0, expect = make()
        first = [ev0]

        def make_event(make=make, first=first):
            return first.pop() if first else make()[0]

        rows, peak = bench.warm(name, x86[name], make_event, expect, n, after)
        rss[name] = max(rss.get(name, 0), peak)
        lat = [r[0] for r in rows]
        own = [r[0] - r[3] - base_p50 for r in rows]
        calls = sorted({r[1] for r in rows})
        ops = rows[len(rows) // 2][4]
        warm.append({
            "route": route, "function": name, "n": n, "own_ok": own_ok, "p50": pct(lat, 50), "p99": pct(lat, 99),
            "ddb_calls": calls, "ses_calls": sorted({r[2] for r in rows}), "ops": ops,
            "waited_p50": statistics.median([r[3] for r in rows]),
            "own_p50": pct(own, 50), "own_p99": pct(own, 99),
        })
    for name in FUNCTIONS:
        rss.setdefault(name, None)

    argon = json.loads(Path(args.argon2_json).read_text()) if args.argon2_json else None
    write_report(args, cold, warm, rss, base, argon)


def write_report(args, cold, warm, rss, base, argon):
    hello_cold = statistics.median(cold["hello"]["cold"])
    lines = []
    m = machine()
    lines.append(f"Measured {m['date']} at commit {m['commit']} on {m['cpu']} ({m['cores']} cores, Linux "
                 f"{m['kernel']}), {m['rustc']}; release profile of Cargo.toml. Command: `make bench` "
                 f"(RUNS={args.runs}, WARM={args.warm}).")
    lines.append("")
    lines.append("| bootstrap | arm64 size | x86_64 size | start to first `next` | cold start (to first answer) | "
                 "vs hello-world | CPU time to first answer | first store request | DynamoDB calls before the "
                 "first answer | peak RSS |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    names = ["hello"] + FUNCTIONS
    for name in names:
        arm = size_of(Path(args.arm64_dir) / name / "bootstrap") if name != "hello" else size_of(args.hello_arm64)
        x86 = size_of(Path(args.x86_dir) / name) if name != "hello" else size_of(args.hello)
        c = cold[name]
        med = statistics.median(c["cold"])
        real = statistics.median(c["real"]) if c["real"] else None
        label = "hello-world (`bench/hello`)" if name == "hello" else f"`{name}`"
        ratio = "1.00x" if name == "hello" else f"{med / hello_cold:.2f}x"
        calls = max(c["init_calls"]) if name != "hello" else 0
        peak = rss.get(name)
        init = statistics.median(c["init"])
        cpu = statistics.median(c["cpu"])
        lines.append(f"| {label} | {fmt_size(arm)} | {fmt_size(x86)} | {fmt_ms(init)} ms | {fmt_ms(med)} ms | {ratio} | "
                     f"{fmt_ms(cpu)} ms | "
                     f"{fmt_ms(real) + ' ms' if real is not None else '-'} | {calls} | "
                     f"{'n/a' if peak is None else f'{peak:.1f} MiB'} |")
    lines.append("")
    lines.append(f"Warm, {args.warm} invocations per route on one process, against DynamoDB Local and moto; "
                 f"the hello-world's median through the same Runtime API is {fmt_ms(statistics.median(base))} ms "
                 f"(p99 {fmt_ms(pct(base, 99))} ms), the runtime's and this harness's share, taken out of `own`.")
    lines.append("")
    lines.append("| route | p50 | p99 | DynamoDB calls | SES calls | waiting on them, p50 | own p50 | own p99 |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for w in warm:
        calls = "-".join(str(c) for c in (w["ddb_calls"][0], w["ddb_calls"][-1])) if len(w["ddb_calls"]) > 1 \
            else str(w["ddb_calls"][0])
        ses = str(w["ses_calls"][-1])
        own = (f"{fmt_ms(w['own_p50'])} ms | {fmt_ms(w['own_p99'])} ms" if w["own_ok"]
               else "n/a (600 ms floor) | n/a")
        route = w["route"] + (f" ({w['n']} invocations)" if w["n"] != args.warm else "")
        lines.append(f"| {route} | {fmt_ms(w['p50'])} ms | {fmt_ms(w['p99'])} ms | {calls} | {ses} | "
                     f"{fmt_ms(w['waited_p50'])} ms | {own} |")
    lines.append("")
    lines.append("DynamoDB operations of one request: " + "; ".join(
        f"{w['route']}: {', '.join(w['ops']) or 'none'}" for w in warm) + ".")
    if argon:
        lines.append("")
        lines.append(f"Argon2id (m = {argon['memory_kib']} KiB, t = {argon['passes']}, p = {argon['lanes']}), "
                     f"release build, {argon['runs']} runs: hash {argon['hash_p50_ms']:.1f} ms median "
                     f"(p99 {argon['hash_p99_ms']:.1f}), verify {argon['verify_p50_ms']:.1f} ms median "
                     f"(p99 {argon['verify_p99_ms']:.1f}). A login verifies once (an unknown e-mail costs the same), "
                     f"so `POST /login`'s own time above is almost all Argon2id.")

    # Targets.
    lines.append("")
    lines.append("| target | measured | met |")
    lines.append("| --- | --- | --- |")
    fns = [n for n in FUNCTIONS if n != "send-pending-mail"]
    hello_cpu = statistics.median(cold["hello"]["cpu"])
    ratios = {n: statistics.median(cold[n]["cold"]) / hello_cold for n in fns}
    missed = [f"`{n}` {r:.2f}x" + (" (reads the catalog while starting)" if max(cold[n]["init_calls"]) else "")
              for n, r in ratios.items() if r > 1.5]
    met = [f"`{n}` {r:.2f}x" for n, r in ratios.items() if r <= 1.5]
    cpu_ratios = ", ".join(f"`{n}` {statistics.median(cold[n]['cpu']) / hello_cpu:.2f}x" for n in fns)
    lines.append(f"| cold start within 1.5x the hello-world's (wall, to the first answer) | within: "
                 f"{', '.join(met) or 'none'}; over: {', '.join(missed) or 'none'}; CPU time: {cpu_ratios} | "
                 f"{'yes' if not missed else 'no'} |")
    peaks = {n: v for n, v in rss.items() if n != "hello" and v is not None}
    top = max(peaks, key=peaks.get)
    lines.append(f"| peak RSS under 32 MB | worst {peaks[top]:.1f} MiB (`{top}`) | "
                 f"{'yes' if peaks[top] < 32 else 'no'} |")
    non_login = [w for w in warm if w["function"] != "login" and w["own_ok"]]
    wo = max(non_login, key=lambda w: w["own_p50"])
    over = [w["route"] for w in non_login if w["own_p50"] >= 1]
    lines.append(f"| warm handler overhead under 1 ms (own time, p50; login aside: Argon2id) | worst "
                 f"{fmt_ms(wo['own_p50'])} ms ({wo['route']}) | "
                 f"{'yes' if not over else 'no: ' + ', '.join(over)} |")
    lst = next(w for w in warm if w["function"] == "list-subscriptions")
    lines.append(f"| list: at most 2 store calls | {lst['ddb_calls'][-1]} | "
                 f"{'yes' if lst['ddb_calls'][-1] <= 2 else 'no'} |")
    up = next(w for w in warm if w["function"] == "upgrade-serial")
    tx = up["ops"].count("TransactWriteItems")
    reads = sum(up["ops"].count(op) for op in ("GetItem", "Query", "BatchGetItem"))
    after = len(up["ops"]) - tx - reads
    verdict = "yes" if tx == 1 and after == 0 else ("one transaction, yes; but not only reads besides it" if tx == 1 else "no")
    lines.append(f"| upgrade: one transaction plus its reads | {tx} transaction, {reads} reads, {after} more writes "
                 f"({', '.join(up['ops'])}) | {verdict} |")
    text = "\n".join(lines)
    print()
    print(text)
    replace_block(Path(args.out), "bench", text)
    print(f"\nbench: written to {args.out}")


def cold_compare(args):
    """Cold start and size of several builds, each with its own hello-world."""
    bench = Bench(args)
    Fixture.table_only(args)
    builds, arm_dirs, argon = {}, {}, {}
    for spec in args.variant:
        label, _, rest = spec.partition("=")
        bins_dir, hello, arm_dir, argon_bin = (rest.split(",") + ["", "", ""])[:4]
        bins = {"hello": Path(hello)}
        bins.update({n: Path(bins_dir) / n for n in FUNCTIONS if n != "send-pending-mail"})
        builds[label] = bins
        arm_dirs[label] = arm_dir
        if argon_bin:
            out = subprocess.run([argon_bin, "30"], capture_output=True, text=True, check=True).stdout
            argon[label] = json.loads(out)
    res = measure_cold(bench, builds, args.runs)
    lines = [f"Cold start: median of {args.runs} interleaved runs per bootstrap, each build with its own hello-world "
             f"(same profile); store-free first request.", "",
             "| build | bootstrap | arm64 size | x86_64 size | start to first `next` | cold start (to first answer) "
             "| vs its hello-world | CPU time to first answer | vs its hello-world |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for label, bins in builds.items():
        h = statistics.median(res[label]["hello"]["cold"])
        hc = statistics.median(res[label]["hello"]["cpu"])
        for name, path in bins.items():
            med = statistics.median(res[label][name]["cold"])
            cpu = statistics.median(res[label][name]["cpu"])
            arm = size_of(Path(arm_dirs[label]) / name / "bootstrap") if arm_dirs[label] and name != "hello" else None
            init = statistics.median(res[label][name]["init"])
            lines.append(f"| {label} | {name} | {fmt_size(arm)} | {fmt_size(size_of(path))} | {fmt_ms(init)} ms | "
                         f"{fmt_ms(med)} ms | {med / h:.2f}x | {fmt_ms(cpu)} ms | {cpu / hc:.2f}x |")
    if argon:
        lines.append("")
        lines.append("Argon2id at the portal's parameters, same builds (bench/argon2, 30 runs, median): " + "; ".join(
            f"{label}: hash {a['hash_p50_ms']:.1f} ms, verify {a['verify_p50_ms']:.1f} ms" for label, a in argon.items()) + ".")
    text = "\n".join(lines)
    print(text)
    if args.out and args.block:
        replace_block(Path(args.out), args.block, text)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("report", "cold"):
        s = sub.add_parser(name)
        s.add_argument("--dynamodb", required=True, help="DynamoDB Local URL")
        s.add_argument("--moto", required=True, help="moto URL")
        s.add_argument("--table", default="portal-bench")
        s.add_argument("--runs", type=int, default=20, help="cold starts per bootstrap")
        s.add_argument("--state", default=str(ROOT / ".local" / "bench"), help="logs of the bootstraps")
        s.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
        s.add_argument("--portal-admin", required=True)
    r = sub.choices["report"]
    r.add_argument("--x86-dir", required=True, help="folder of the x86_64 release bootstraps")
    r.add_argument("--arm64-dir", required=True, help="cargo lambda's output folder (<fn>/bootstrap)")
    r.add_argument("--hello", required=True, help="x86_64 hello-world")
    r.add_argument("--hello-arm64", help="arm64 hello-world")
    r.add_argument("--warm", type=int, default=200, help="invocations per route")
    r.add_argument("--argon2-json", help="output of bench/argon2")
    c = sub.choices["cold"]
    c.add_argument("--variant", action="append", required=True, help="LABEL=BIN_DIR,HELLO_BINARY[,ARM64_LAMBDA_DIR[,ARGON2_TIMER]]")
    c.add_argument("--block", help="name of the BENCHMARKS.md block to write the table into")
    args = p.parse_args()
    try:
        report(args) if args.cmd == "report" else cold_compare(args)
    except RuntimeError as e:
        print(f"bench: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
