"""The measurement runs: `report` (every measurement, then the tables) and `cold`
(the cold starts of several builds side by side)."""

import datetime
import gc
import json
import os
import statistics
import subprocess
import threading
from pathlib import Path

from .common import COMPANY, FUNCTIONS, PASSWORD, ROUND_TRIP_LATENCY_MS
from .events import cold_events, event, payment, scheduled
from .fixture import Fixture, reset_token
from .processes import Bench
from .runtime_api import RuntimeApi
from .tables import fmt_ms, fmt_size, pct, replace_block, size_of, write_report


def measure_cold(bench, builds, runs, real_for=None):
    """builds: label -> {name: binary}. Interleaved: every binary once per round; the
    order of the builds alternates between rounds. Python's garbage collector runs
    between processes only, never while one is timed."""
    firsts = cold_events()
    out = {label: {name: {"cold": [], "init": [], "cpu": [], "real": [], "init_calls": [], "start": []} for name in bins}
           for label, bins in builds.items()}
    order = list(builds.items())
    gc.disable()
    try:
        for round_ in range(runs):
            for label, bins in order if round_ % 2 == 0 else order[::-1]:
                for name, binary in bins.items():
                    gc.collect()
                    real = real_for.get(name) if real_for else None
                    if real_for and name == "send-pending-mail":
                        # The round's upgrades and payments wrote events: the stream takes
                        # them out first, as in AWS, so the timed run finds what a
                        # deployed retry job does (an empty outbox).
                        bench.deliver_stream(binary)
                    cold, init, cpu, real_ms, calls, waited = bench.cold(name, binary, firsts[name], real)
                    r = out[label][name]
                    r["cold"].append(cold)
                    # The start-up itself: the first answer less its waits on DynamoDB Local
                    # and moto (only the event functions' first answers make requests).
                    r["start"].append(cold - waited)
                    r["init"].append(init)
                    r["cpu"].append(cpu)
                    r["init_calls"].append(calls)
                    if real_ms is not None:
                        r["real"].append(real_ms)
    finally:
        gc.enable()
    return out


class LoadSampler:
    """The machine's 1-minute load average, read every 15 s while the measurements run."""

    def __init__(self):
        self.samples = [os.getloadavg()[0]]
        self.done = threading.Event()
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while not self.done.wait(15):
            self.samples.append(os.getloadavg()[0])

    def stop(self):
        self.done.set()
        self.samples.append(os.getloadavg()[0])
        return self.samples


def report(args):
    load = LoadSampler()
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
    paid_through = str(datetime.date.today() + datetime.timedelta(days=45))
    real = {
        "login": lambda: (event("login", EMAIL=fx.email, PASSWORD=PASSWORD), 200),
        "recover-password": lambda: (event("password-reset", EMAIL="nobody.bench@example.com"), 202),
        "list-subscriptions": lambda: (event("subscriptions", TOKEN=token), 200),
        "upgrade-serial": lambda: (event("upgrade", TOKEN=up_token, SERIAL=next(upgradable), TERMS_VERSION="2022-10"),
                                   201),
        "validate-serial": lambda: (event("validate", SERIAL=fx.validate_serial, COMPANY=COMPANY), 200),
        "license-file": lambda: (event("license-file", TOKEN=token, SERIAL=fx.validate_serial,
                                       INSTALLATION="BENCH-INSTALL-0001"), 201),
        # The upgrader's account: one session (the login account gets one per timed login).
        "account": lambda: (event("sessions", TOKEN=up_token), 200),
        "send-pending-mail": lambda: (scheduled(), None),
        # A new payment id each time, so that each one is applied (not a redelivery).
        "record-payment": lambda: (payment(fx.payer_serial, paid_through), {"outcome": "applied"}),
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
        ("POST /subscriptions/{serial}/license-file", "license-file", real["license-file"], args.warm, None, True),
        ("GET /sessions (one session)", "account", real["account"], args.warm, None, True),
        # Answers no sooner than RESET_ANSWER_FLOOR (600 ms), whatever the work: timed a few
        # times only; then one real reset and confirm before the RSS is read.
        ("POST /password-reset (unknown e-mail)", "recover-password", real["recover-password"], min(args.warm, 10),
         reset_and_confirm, False),
        ("send-pending-mail (empty outbox)", "send-pending-mail", real["send-pending-mail"], args.warm, None, True),
        ("record-payment (PaymentRecorded, applied)", "record-payment", real["record-payment"], args.warm, None, True),
    ]
    print(f"bench: warm, {args.warm} invocations per route ...", flush=True)
    base_rows, hello_rss = bench.warm("hello", hello, lambda: event("subscriptions-no-token"), 200, args.warm)
    base_cpu = bench.cpu_per_call_ms
    base = [r["ms"] for r in base_rows]
    base_p50 = statistics.median(base)
    warm = []
    rss = {"hello": hello_rss}
    for route, name, make, n, after, own_ok in routes:
        if name == "send-pending-mail":
            # The events of the upgrades and payments measured so far leave through the
            # stream first (as in AWS): the retry job's outbox is empty, as the route says.
            print(f"bench: the table's stream to send-pending-mail: {bench.deliver_stream(x86[name])} events", flush=True)
        ev0, expect = make()
        first = [ev0]

        def make_event(make=make, first=first):
            return first.pop() if first else make()[0]

        rows, peak = bench.warm(name, x86[name], make_event, expect, n, after, profile=True)
        cpu_per_call = bench.cpu_per_call_ms - base_cpu
        rss[name] = max(rss.get(name, 0), peak)
        # The round trips, counted again on a fresh process with every DynamoDB answer held
        # ROUND_TRIP_LATENCY_MS, as a network would: DynamoDB Local answers a GetItem in
        # well under a millisecond, sometimes before the function (one thread) has sent the
        # next request of the same batch; that would count as a wait it does not make.
        bench.ddb.delay_s = ROUND_TRIP_LATENCY_MS / 1000
        try:
            slow, _ = bench.warm(name, x86[name], lambda make=make: make()[0], expect, n)
        finally:
            bench.ddb.delay_s = 0.0
        lat = [r["ms"] for r in rows]
        own = [r["ms"] - r["waited"] - base_p50 for r in rows]
        ops = rows[len(rows) // 2]["ops"]
        warm.append({
            "route": route, "function": name, "n": n, "own_ok": own_ok, "p50": pct(lat, 50), "p99": pct(lat, 99),
            "ddb_calls": sorted({r["ddb"] for r in rows}), "ses_calls": sorted({r["ses"] for r in rows}), "ops": ops,
            "events_calls": sorted({r["events"] for r in rows}),
            # Per invocation, to count how many were over a target: with the added latency,
            # and as first measured (raw).
            "trips": [r["trips"] for r in slow],
            "before_ses": [r["before_ses"] for r in slow if r["before_ses"] is not None],
            "trips_raw": [r["trips"] for r in rows],
            "before_ses_raw": [r["before_ses"] for r in rows if r["before_ses"] is not None],
            "waited_p50": statistics.median([r["waited"] for r in rows]),
            "own_p50": pct(own, 50), "own_p99": pct(own, 99), "cpu": cpu_per_call,
        })
    for name in FUNCTIONS:
        rss.setdefault(name, None)

    argon = json.loads(Path(args.argon2_json).read_text()) if args.argon2_json else None
    sdk = sdk_cost(args) if args.sdk_cost else None
    write_report(args, cold, warm, rss, base, argon, load.stop(), base_cpu, sdk)


def sdk_cost(args):
    """bench/sdk-cost against the fixture's table (straight to DynamoDB Local, no proxy):
    one GetItem's CPU through the portal's client, with settings changed, and by hand."""
    print("bench: one DynamoDB request's CPU, SDK and bare socket (bench/sdk-cost) ...", flush=True)
    out = subprocess.run([args.sdk_cost], env=Fixture.admin_env(args), capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"sdk-cost: {out.stderr.strip()[-400:]}")
    return json.loads(out.stdout)


def cold_compare(args):
    """Cold start and size of several builds, each with its own hello-world."""
    bench = Bench(args)
    Fixture.table_only(args)
    builds, arm_dirs, argon = {}, {}, {}
    for spec in args.variant:
        label, _, rest = spec.partition("=")
        bins_dir, hello, arm_dir, argon_bin = (rest.split(",") + ["", "", ""])[:4]
        bins = {"hello": Path(hello)}
        # The functions found in the folder (a build may hold only the ones a change
        # touched). send-pending-mail's first answer includes the outbox's Queries and
        # record-payment's the dead-letter queue's SendMessage: their waits are taken out.
        bins.update({n: Path(bins_dir) / n for n in FUNCTIONS if (Path(bins_dir) / n).exists()})
        builds[label] = bins
        arm_dirs[label] = arm_dir
        if argon_bin:
            out = subprocess.run([argon_bin, "30"], capture_output=True, text=True, check=True).stdout
            argon[label] = json.loads(out)
    res = measure_cold(bench, builds, args.runs)
    lines = [f"Cold start: median of {args.runs} interleaved runs per bootstrap, each build with its own hello-world "
             f"(same profile); store-free first request (an event function: its first event, its waits on the stand-ins taken out in their own column).", "",
             "| build | bootstrap | arm64 size | x86_64 size | start to first `next` | cold start (to first answer) "
             "| vs its hello-world | less its waits, vs its hello-world | CPU time to first answer | vs its hello-world |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for label, bins in builds.items():
        h = statistics.median(res[label]["hello"]["cold"])
        hc = statistics.median(res[label]["hello"]["cpu"])
        for name, path in bins.items():
            med = statistics.median(res[label][name]["cold"])
            cpu = statistics.median(res[label][name]["cpu"])
            arm = size_of(Path(arm_dirs[label]) / name / "bootstrap") if arm_dirs[label] and name != "hello" else None
            init = statistics.median(res[label][name]["init"])
            start = statistics.median(res[label][name]["start"])
            lines.append(f"| {label} | {name} | {fmt_size(arm)} | {fmt_size(size_of(path))} | {fmt_ms(init)} ms | "
                         f"{fmt_ms(med)} ms | {med / h:.2f}x | {start / h:.2f}x | {fmt_ms(cpu)} ms | {cpu / hc:.2f}x |")
    if argon:
        lines.append("")
        lines.append("Argon2id at the portal's parameters, same builds (bench/argon2, 30 runs, median): " + "; ".join(
            f"{label}: hash {a['hash_p50_ms']:.1f} ms, verify {a['verify_p50_ms']:.1f} ms" for label, a in argon.items()) + ".")
    text = "\n".join(lines)
    print(text)
    if args.out and args.block:
        replace_block(Path(args.out), args.block, text)
