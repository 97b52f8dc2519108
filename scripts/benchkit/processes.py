"""A bootstrap as Lambda runs it (fresh process, Lambda environment): one cold start,
or one warm run of many invocations."""

import gc
import os
import signal
import subprocess
import time
from pathlib import Path

from .common import DEAD_LETTER_QUEUE, MEMORY, NS, now_ns
from .events import encode, matches
from .runtime_api import RuntimeApi
from .stream import SendPendingMailStream
from .timing_proxy import TimingProxy


class Bench:
    def __init__(self, args):
        self.args = args
        self.ddb = TimingProxy(args.dynamodb)
        self.ses = TimingProxy(args.moto)
        # EventBridge and SQS (the outbox's events, the dead-letter queue): timed too, so
        # that waiting on them is not counted as the function's own time.
        self.events = TimingProxy(args.moto)
        self.logdir = Path(args.state)
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.cpu_per_call_ms = None
        self.stream = SendPendingMailStream(args.dynamodb, args.table)

    def deliver_stream(self, binary):
        """Between measurements, what Lambda does with the table's stream: its new
        outbox events handed to a send-pending-mail process of their own (not timed)."""
        batches = self.stream.batches()
        if not batches:
            return 0
        api = RuntimeApi()
        proc, _ = self.start("send-pending-mail", binary, api)
        try:
            for batch in batches:
                self.invoke(api, batch, None)
        finally:
            self.stop(proc)
            api.close()
        return sum(len(b["Records"]) for b in batches)

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
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.args.moto,
            "SIGNING_KEYS_SECRET": f"{self.args.table}/signing-keys",
            "TOTP_KEY_SECRET": "portal-local/totp-key",
            "AWS_ENDPOINT_URL_EVENTBRIDGE": self.events.url,
            "AWS_ENDPOINT_URL_SQS": self.events.url,
            "EVENT_BUS_NAME": "portal-local-events",
            # The URL moto gave scripts/bench.sh when it created the queue.
            "DEAD_LETTER_QUEUE_URL": os.environ.get("DEAD_LETTER_QUEUE_URL")
            or f"{self.args.moto}/123456789012/{DEAD_LETTER_QUEUE}",
            "TABLE_NAME": self.args.table,
            "MAIL_FROM": "no-reply@portal.example",
            "PORTAL_URL": "http://127.0.0.1:5173",
            "VENDOR_NAME": "Aspel",
            "SUPPORT_PHONE": "800 277 3735",
            "DISTRIBUTOR_URL": "https://www.aspel.com.mx/distribuidores",
            "DOWNLOAD_URL": "https://www.aspel.com.mx/descargas",
            "RUST_LOG": "info",
        }

    def start(self, name, binary, api):
        log = open(self.logdir / f"{name}.log", "ab")
        t0 = now_ns()
        proc = subprocess.Popen([str(binary)], env=self.env(name, api), stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        return proc, t0

    def perf(self, name, proc):
        """`perf record` of a running bootstrap, into <state>/<name>.perf.data (built
        unstripped, its report names the functions: see BENCHMARKS.md, "Profiling")."""
        out = self.logdir / f"{name}.perf.data"
        cmd = ["perf", "record", "-q", "-F", "4999", "-p", str(proc.pid), "-o", str(out)]
        if os.environ.get("BENCH_PERF_CALLS") == "1":
            cmd[2:2] = ["--call-graph", "dwarf,16384"]
        rec = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # perf attaches before the timed invocations start
        print(f"bench: perf record of {name} into {out}", flush=True)
        return rec

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
        if not matches(expect, status, body):
            raise RuntimeError(f"expected {expect}, got {status}: {body[:400]!r}")
        return sent, at, body

    def cold(self, name, binary, first, real=None):
        """One cold start: ms to the first answer, ms before the first `next`, CPU ms to the
        first answer, ms of the first real request, DynamoDB calls before the first answer,
        and ms of the first answer spent waiting on the stand-ins (DynamoDB Local, moto)."""
        api = RuntimeApi()
        try:
            rid = api.queue(encode(first[0]))
            proc, t0 = self.start(name, binary, api)
            try:
                _, at, status, body = api.wait(rid)
                if not matches(first[1], status, body):
                    raise RuntimeError(f"{name}: first answer {status}, expected {first[1]}: {body[:300]!r}")
                cpu = self.cpu_ms(proc)
                ddb = self.ddb.between(t0, at)
                init_calls = len(ddb)
                out = [*ddb, *self.ses.between(t0, at), *self.events.between(t0, at)]
                waited = sum(e - s for s, e in round_trips([(s, e) for s, e, _ in out])) / NS
                init_ms = (api.next_at[0] - t0) / NS
                real_ms = None
                if real is not None:
                    ev, expect = real()
                    sent, done, _ = self.invoke(api, ev, expect)
                    real_ms = (done - sent) / NS
                return (at - t0) / NS, init_ms, cpu, real_ms, init_calls, waited
            finally:
                self.stop(proc)
        finally:
            api.close()

    def warm(self, name, binary, make_event, expect, n, after=None, profile=False):
        """n timed invocations on one process after one warm-up; per invocation a dict
        (see `exchanges`); and peak RSS (after `after(api)`, if given, has run more
        requests on the process). With `profile` and BENCH_PERF naming this function,
        `perf record` samples the process during the timed invocations."""
        api = RuntimeApi()
        try:
            proc, _ = self.start(name, binary, api)
            try:
                self.invoke(api, make_event(), expect)
                perf = self.perf(name, proc) if profile and os.environ.get("BENCH_PERF") == name else None
                rows = []
                gc.collect()
                gc.disable()
                cpu0 = self.cpu_ms(proc)
                for _ in range(n):
                    sent, at, _ = self.invoke(api, make_event(), expect)
                    rows.append(exchanges(sent, at, self.ddb.between(sent, at), self.ses.between(sent, at),
                                          self.events.between(sent, at)))
                # The process's CPU time per invocation: its own work, measured by the kernel,
                # whatever the harness's threads took to notice its requests.
                self.cpu_per_call_ms = (self.cpu_ms(proc) - cpu0) / n
                gc.enable()
                if perf is not None:
                    perf.send_signal(signal.SIGINT)
                    perf.wait()
                if after is not None:
                    after(api)
                return rows, self.vmhwm_mb(proc)
            finally:
                self.stop(proc)
        finally:
            api.close()


def round_trips(spans):
    """The maximal groups of overlapping (start, end) spans, in time order: requests that
    were out together are one wait; each group is (first start, last end)."""
    groups = []
    for s, e in sorted(spans):
        if groups and s <= groups[-1][1]:
            groups[-1][1] = max(groups[-1][1], e)
        else:
            groups.append([s, e])
    return [tuple(g) for g in groups]


def exchanges(sent, at, ddb, ses, events=()):
    """One invocation, from the proxies' records (start, end, operation):
      ms          latency (event handed out -> answer received)
      ddb, ses    number of DynamoDB / SES requests
      events      number of EventBridge and SQS requests
      trips       DynamoDB round trips: the sequential waits, overlapping requests counted once
      before_ses  of them, the ones over before the first SES request started (None: no SES)
      waited      ms during which at least one DynamoDB, SES, EventBridge or SQS request was out
      ops         the DynamoDB operations, in order of start"""
    trips = round_trips([(s, e) for s, e, _ in ddb])
    first_ses = min((s for s, _, _ in ses), default=None)
    waited = sum(e - s for s, e in round_trips([(s, e) for s, e, _ in [*ddb, *ses, *events]]))
    return {
        "ms": (at - sent) / NS,
        "ddb": len(ddb),
        "ses": len(ses),
        "events": len(events),
        "trips": len(trips),
        "before_ses": None if first_ses is None else sum(1 for _, e in trips if e < first_ses),
        "waited": waited / NS,
        "ops": [op for _, _, op in sorted(ddb)],
    }
