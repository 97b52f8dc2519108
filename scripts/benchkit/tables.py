"""The report: numbers formatted, the machine described, the tables written and put
into their blocks of BENCHMARKS.md."""

import datetime
import os
import platform
import statistics
import subprocess
from pathlib import Path

from .common import FUNCTIONS, ROOT


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, -(-len(s) * p // 100) - 1))]


def fmt_ms(v):
    return "n/a" if v is None else (f"{v:.2f}" if v < 10 else f"{v:.1f}")


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
