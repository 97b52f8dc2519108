"""The report: numbers formatted, the machine described, the tables written and put
into their blocks of BENCHMARKS.md."""

import collections
import datetime
import os
import platform
import statistics
import subprocess
from pathlib import Path

from .common import FUNCTIONS, ROOT, ROUND_TRIP_LATENCY_MS


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, -(-len(s) * p // 100) - 1))]


def fmt_ms(v):
    return "n/a" if v is None else (f"{v:.2f}" if v < 10 else f"{v:.1f}")


def spread(values):
    """"n", or "lo-hi" when the values differ."""
    lo, hi = min(values), max(values)
    return str(lo) if lo == hi else f"{lo}-{hi}"


def tally(values):
    """How often each value occurred: "1 in all 200", or "2 in 198, 3 in 2 (of 200)"."""
    counts = sorted(collections.Counter(values).items())
    if not counts:
        return "none seen"
    if len(counts) == 1:
        return f"{counts[0][0]} in all {len(values)}"
    return ", ".join(f"{v} in {c}" for v, c in counts) + f" (of {len(values)})"


def size_of(path):
    return Path(path).stat().st_size if path and Path(path).exists() else None


def fmt_size(b):
    return "n/a" if b is None else f"{b / 1024 / 1024:.2f} MiB"


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


def sdk_paragraph(sdk, upgrade):
    """What one request costs in the SDK, against its HTTP client alone and by hand
    (bench/sdk-cost's JSON line)."""
    ways = {w["way"]: w["cpu_us_p50"] for w in sdk["ways"]}
    portal, hyper, bare = ways.pop("portal"), ways.pop("hyper client"), ways.pop("bare socket")
    changed = ", ".join(f"{name} {us:.0f}" for name, us in ways.items())
    lowest = next(w["cpu_us_min"] for w in sdk["ways"] if w["way"] == "portal")
    text = (f"One DynamoDB GetItem on a kept-alive connection (`bench/sdk-cost`, {sdk['rounds']} alternating rounds "
            f"of {sdk['requests']} per way, median of the rounds, the thread's CPU time): {portal:.0f} \u00b5s through "
            f"the functions' client (lowest round {lowest:.0f}); with one of its settings changed, or all three: "
            f"{changed} \u00b5s; the same request through hyper's client alone (the SDK's HTTP client without the "
            f"SDK): {hyper:.0f} \u00b5s; written by hand on a blocking socket: {bare:.0f} \u00b5s. So of a request's "
            f"CPU on this machine, the SDK's own work (building, signing, the orchestrator, reading the answer) is about "
            f"{portal - hyper:.0f} \u00b5s, the asynchronous HTTP client's {hyper - bare:.0f} \u00b5s, the kernel's "
            f"{bare:.0f} \u00b5s")
    if upgrade:
        requests = max(upgrade["ddb_calls"]) + max(upgrade["ses_calls"])
        text += (f"; the upgrade makes {requests} requests ({spread(upgrade['ddb_calls'])} DynamoDB, "
                 f"{spread(upgrade['ses_calls'])} SES, bigger than a GetItem): "
                 f"{requests * portal / 1000:.2f} ms of CPU at the GetItem's rate, before its own work")
    return text + "."


def write_report(args, cold, warm, rss, base, argon, load=None, base_cpu=None, sdk=None):
    # The ratios compare the start-up itself: the first answer less its waits on the
    # stand-ins (none but for the event functions, whose first answers make requests).
    hello_start = statistics.median(cold["hello"]["start"])
    lines = []
    m = machine()
    lines.append(f"Measured {m['date']} at commit {m['commit']} on {m['cpu']} ({m['cores']} cores, Linux "
                 f"{m['kernel']}), {m['rustc']}; release profile of Cargo.toml. Command: `make bench` "
                 f"(RUNS={args.runs}, WARM={args.warm}).")
    if load:
        busy = statistics.median(load) > 1.5
        lines.append("")
        lines.append(f"Load average (1 minute) while it ran, read every 15 s: median {statistics.median(load):.2f}, "
                     f"{min(load):.2f} to {max(load):.2f}, on {m['cores']} cores, the bench's own share (about "
                     f"one core: harness, bootstrap, DynamoDB Local, moto) included. "
                     + ("Other work was running on the machine: compare the ratios, not the times." if busy
                        else "No other significant load."))
    lines.append("")
    lines.append("| bootstrap | arm64 size | x86_64 size | start to first `next` | cold start (to first answer) | "
                 "of it, waiting on DynamoDB Local and moto | vs hello-world (less that wait) | CPU time to first "
                 "answer | first store request | DynamoDB calls before the first answer | peak RSS |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    names = ["hello"] + FUNCTIONS
    for name in names:
        arm = size_of(Path(args.arm64_dir) / name / "bootstrap") if name != "hello" else size_of(args.hello_arm64)
        x86 = size_of(Path(args.x86_dir) / name) if name != "hello" else size_of(args.hello)
        c = cold[name]
        med = statistics.median(c["cold"])
        start = statistics.median(c["start"])
        real = statistics.median(c["real"]) if c["real"] else None
        label = "hello-world (`bench/hello`)" if name == "hello" else f"`{name}`"
        ratio = "1.00x" if name == "hello" else f"{start / hello_start:.2f}x"
        calls = max(c["init_calls"]) if name != "hello" else 0
        peak = rss.get(name)
        init = statistics.median(c["init"])
        cpu = statistics.median(c["cpu"])
        lines.append(f"| {label} | {fmt_size(arm)} | {fmt_size(x86)} | {fmt_ms(init)} ms | {fmt_ms(med)} ms | "
                     f"{fmt_ms(med - start)} ms | {ratio} | "
                     f"{fmt_ms(cpu)} ms | "
                     f"{fmt_ms(real) + ' ms' if real is not None else '-'} | {calls} | "
                     f"{'n/a' if peak is None else f'{peak:.1f} MiB'} |")
    lines.append("")
    lines.append(f"Warm, {args.warm} invocations per route on one process, against DynamoDB Local and moto; "
                 f"the hello-world's median through the same Runtime API is {fmt_ms(statistics.median(base))} ms "
                 f"(p99 {fmt_ms(pct(base, 99))} ms), the runtime's and this harness's share, taken out of `own`. "
                 f"Round trips: the DynamoDB requests the invocation waited for in sequence (requests out at the "
                 f"same time count once), counted in a second run of as many invocations with every DynamoDB "
                 f"answer held {ROUND_TRIP_LATENCY_MS} ms; \"before SES\": those over before its first SES request. "
                 f"Waiting: the time at least one DynamoDB, SES, EventBridge or SQS request was out, as the "
                 f"proxies saw it (from the kernel's receive time of a request's first bytes to the answer handed "
                 f"back). Own = latency - waiting - the hello-world's median: the function's work, and its waking "
                 f"to each answer on this shared machine. CPU: the "
                 f"process's CPU time per invocation (the kernel's count, its networking included), less the "
                 f"hello-world's ({fmt_ms(base_cpu or 0)} ms).")
    lines.append("")
    lines.append("| route | p50 | p99 | DynamoDB calls | round trips | SES calls | EventBridge, SQS calls | "
                 "waiting on them, p50 | own p50 | own p99 | CPU per invocation |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for w in warm:
        trips = spread(w["trips"]) + (f" ({spread(w['before_ses'])} before SES)" if w["before_ses"] else "")
        ses = spread(w["ses_calls"])
        own = (f"{fmt_ms(w['own_p50'])} ms | {fmt_ms(w['own_p99'])} ms" if w["own_ok"]
               else "n/a (600 ms floor) | n/a")
        route = w["route"] + (f" ({w['n']} invocations)" if w["n"] != args.warm else "")
        lines.append(f"| {route} | {fmt_ms(w['p50'])} ms | {fmt_ms(w['p99'])} ms | {spread(w['ddb_calls'])} | {trips} | "
                     f"{ses} | {spread(w['events_calls'])} | {fmt_ms(w['waited_p50'])} ms | {own} | "
                     f"{fmt_ms(w['cpu'])} ms |")
    lines.append("")
    lines.append("DynamoDB operations of one request, in order: " + "; ".join(
        f"{w['route']}: {', '.join(w['ops']) or 'none'}" for w in warm) + ".")
    if argon:
        lines.append("")
        lines.append(f"Argon2id (m = {argon['memory_kib']} KiB, t = {argon['passes']}, p = {argon['lanes']}), "
                     f"release build, {argon['runs']} runs: hash {argon['hash_p50_ms']:.1f} ms median "
                     f"(p99 {argon['hash_p99_ms']:.1f}), verify {argon['verify_p50_ms']:.1f} ms median "
                     f"(p99 {argon['verify_p99_ms']:.1f}). A login verifies once (an unknown e-mail costs the same), "
                     f"so `POST /login`'s own time above is almost all Argon2id.")
    if sdk:
        lines.append("")
        lines.append(sdk_paragraph(sdk, {w["function"]: w for w in warm}.get("upgrade-serial")))

    # Targets.
    lines.append("")
    lines.append("| target | measured | met |")
    lines.append("| --- | --- | --- |")
    by_fn = {w["function"]: w for w in warm}
    for label, fn, key, limit in [
        ("`GET /subscriptions`: 1 round trip", "list-subscriptions", "trips", 1),
        ("`POST /serials/{serial}/validate`: 1 round trip (an activated serial; a first activation adds its write)",
         "validate-serial", "trips", 1),
        ("`POST /subscriptions/{serial}/upgrade`: 2 round trips before the mail goes to SES", "upgrade-serial",
         "before_ses", 2),
        ("`POST /subscriptions/{serial}/upgrade`: 3 round trips in all", "upgrade-serial", "trips", 3),
        ("`POST /login`: 2 round trips besides the hash (every DynamoDB request of the invocation)", "login", "trips",
         2),
    ]:
        w = by_fn.get(fn)
        values = w[key] if w else []
        if not values:
            lines.append(f"| {label} | no {'SES request' if key == 'before_ses' else 'invocation'} seen | no |")
            continue
        over = sum(1 for v in values if v > limit)
        raw = w[key + "_raw"]
        lines.append(f"| {label} | {tally(values)}; in the timed run, without the added latency: {tally(raw)} | "
                     f"{'yes' if not over else f'no: {over} of {len(values)} over'} |")
    hello_cpu = statistics.median(cold["hello"]["cpu"])
    notes = {"send-pending-mail": "its only event is its real one: the first answer includes the outbox's Queries",
             "record-payment": "a malformed event: the first answer includes sending it to the dead-letter queue"}
    for n in FUNCTIONS:
        r = statistics.median(cold[n]["start"]) / hello_start
        wall = statistics.median(cold[n]["cold"]) / statistics.median(cold["hello"]["cold"])
        cpu = statistics.median(cold[n]["cpu"]) / hello_cpu
        why = [notes[n]] if n in notes else []
        if n not in notes and max(cold[n]["init_calls"]):
            why.append(f"{max(cold[n]['init_calls'])} DynamoDB call(s) while starting")
        if n in notes:
            why.append(f"{wall:.2f}x with the wait")
        lines.append(f"| `{n}`: cold start within 1.5x the hello-world's (wall time to the first answer, less its "
                     f"waits on DynamoDB Local and moto) | "
                     f"{r:.2f}x (CPU time {cpu:.2f}x){'; ' + '; '.join(why) if why else ''} | "
                     f"{'yes' if r <= 1.5 else 'no'} |")
    non_login = [w for w in warm if w["function"] != "login" and w["own_ok"]]
    wo = max(non_login, key=lambda w: w["own_p50"])
    over = [w["route"] for w in non_login if w["own_p50"] >= 1]
    lines.append(f"| warm handler overhead under 1 ms (own time, p50; login aside: Argon2id; the reset's 600 ms floor "
                 f"aside) | worst {fmt_ms(wo['own_p50'])} ms ({wo['route']}) | "
                 f"{'yes' if not over else 'no: ' + ', '.join(over)} |")
    wc = max(non_login, key=lambda w: w["cpu"])
    over_cpu = [w["route"] for w in non_login if w["cpu"] >= 1]
    lines.append(f"| warm handler work under 1 ms (CPU per invocation; same routes) | worst {fmt_ms(wc['cpu'])} ms "
                 f"({wc['route']}) | {'yes' if not over_cpu else 'no: ' + ', '.join(over_cpu)} |")
    peaks = {n: v for n, v in rss.items() if n != "hello" and v is not None}
    top = max(peaks, key=peaks.get)
    lines.append(f"| peak RSS under 32 MB | worst {peaks[top]:.1f} MiB (`{top}`) | "
                 f"{'yes' if peaks[top] < 32 else 'no'} |")
    lst = by_fn["list-subscriptions"]
    lines.append(f"| list: at most 2 store calls | {lst['ddb_calls'][-1]} | "
                 f"{'yes' if lst['ddb_calls'][-1] <= 2 else 'no'} |")
    up = by_fn["upgrade-serial"]
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
