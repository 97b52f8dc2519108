"""`make bench-import`: an import file of the vendor's size, generated, then imported into
a fresh DynamoDB Local (in memory) with the release `portal-admin`, timed, its peak RSS
read from the kernel (getrusage of the child); the figures go into BENCHMARKS.md between
its `bench-import` markers.

  python scripts/bench_import.py generate FILE [--serials N] [--accounts M]
  python scripts/bench_import.py run --bin PORTAL_ADMIN --file FILE --table T [--write BENCHMARKS.md]

The file: M accounts, N serials dealt among them (every account at least one), a third of
the serials given as portal serials (valid check character), a tenth in the older system's
format (`OLD-` and eight digits, --legacy-serials), the rest left empty for the portal to
issue; subscriptions and licenses, every billing period, some never activated.
"""

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LEGACY = "OLD-[0-9]{8}"
PRODUCTS = [("SAE", "Aspel SAE", "8.0"), ("NOI", "Aspel NOI", "11.0"), ("COI", "Aspel COI", "10.0"),
            ("BANCO", "Aspel BANCO", "6.0")]
COLUMNS = ["email", "name", "company", "system", "version", "users", "plan", "billing_period",
           "next_payment_on", "activated_on", "serial"]


def portal_serial(rng):
    """A portal serial: nine random symbols and the check character (shared/src/domain/serial.rs)."""
    body = [rng.randrange(32) for _ in range(9)]
    check = sum((2 * i + 3) * v for i, v in enumerate(body)) % 32
    return "".join(ALPHABET[v] for v in body) + ALPHABET[check]


def generate(path, serials, accounts, seed=2026):
    rng = random.Random(seed)
    today = date.today()
    # Every account gets one serial, the rest are dealt at random.
    owners = list(range(accounts)) + [rng.randrange(accounts) for _ in range(serials - accounts)]
    rng.shuffle(owners)
    used = set()
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(COLUMNS) + "\n")
        for n, owner in enumerate(owners):
            system, _, latest = rng.choice(PRODUCTS)
            major = int(latest.split(".")[0])
            version = f"{rng.randint(major - 2, major)}.0"
            plan = "license" if rng.random() < 0.2 else "subscription"
            billing = rng.choice(["monthly", "semiannual", "annual"]) if plan == "subscription" else ""
            next_on = (today + timedelta(days=rng.randint(-60, 365))).isoformat() if billing else ""
            activated = "" if rng.random() < 0.1 else (today - timedelta(days=rng.randint(1, 2000))).isoformat()
            kind = rng.random()
            if kind < 0.33:
                serial = portal_serial(rng)
            elif kind < 0.43:
                serial = f"OLD-{n:08d}"
            else:
                serial = ""
            if serial and serial in used:
                serial = ""
            used.add(serial)
            company = f"Comercial {owner:05d} SA de CV"
            row = [f"cliente{owner:05d}@example.com", f"Cliente {owner:05d}", company, system, version,
                   str(rng.choice([1, 1, 1, 2, 3, 5, 10])), plan, billing, next_on, activated, serial]
            f.write(",".join(row) + "\n")


def admin(bin_, table, *args, check=True):
    env = dict(os.environ, TABLE_NAME=table)
    env.pop("RUST_LOG", None)
    return subprocess.run([bin_, *args], env=env, capture_output=True, text=True, check=check)


def timed(bin_, table, *args):
    """Runs portal-admin once; wall seconds, its peak RSS in KiB (wait4: this child alone),
    stdout and stderr."""
    env = dict(os.environ, TABLE_NAME=table)
    env.pop("RUST_LOG", None)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.monotonic()
        child = subprocess.Popen([bin_, *args], env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        secs = time.monotonic() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode != 0:
        sys.exit(f"portal-admin {' '.join(args)} failed:\n{stderr}")
    return secs, usage.ru_maxrss, stdout, stderr


def phases(stderr):
    """The import's passes and their durations, from its plain progress lines."""
    return re.findall(r"^import: (\w+) done: (\d+) rows in ([\d.]+) s$", stderr, re.M)


def run(args):
    terms = args.file + ".terms.txt"
    with open(terms, "w", encoding="utf-8") as f:
        f.write("Términos de la actualización.\n")
    admin(args.bin, args.table, "init")
    for system, name, version in PRODUCTS:
        admin(args.bin, args.table, "product", "set", "--system", system, "--name", name, "--version", version,
              "--terms-version", "2022-10", "--terms-file", terms)
    os.remove(terms)
    rows = sum(1 for _ in open(args.file, encoding="utf-8")) - 1
    size = os.path.getsize(args.file)
    secs, rss, out, err = timed(args.bin, args.table, "import", args.file, "--legacy-serials", LEGACY)
    print(out.strip())
    passes = ", ".join(f"{name} {float(t):.1f} s" for name, _, t in phases(err))
    again_secs, again_rss, again, _ = timed(args.bin, args.table, "import", args.file, "--legacy-serials", LEGACY)
    print(again.strip())
    if not again.startswith("nothing to write"):
        sys.exit("the second run wrote something")
    exported = args.file + ".export.csv"
    export_secs, export_rss, _, _ = timed(args.bin, args.table, "export", "--out", exported)
    exported_rows = sum(1 for _ in open(exported, encoding="utf-8")) - 1
    os.remove(exported)
    minutes_ok = secs < 300
    rss_mib = rss / 1024
    rss_ok = rss_mib < 100
    load = os.getloadavg()[0]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    cpu = os.cpu_count()
    section = f"""Measured {when} at commit {commit} on this machine ({cpu} cores), release `portal-admin`,
DynamoDB Local in memory on the same machine. Command: `make bench-import` (`scripts/bench_import.py`).
The file: {rows:,} serials of {args.accounts:,} accounts, {size / 1e6:.1f} MB; a third of the serials given
as portal serials, a tenth legacy (`--legacy-serials '{LEGACY}'`), the rest issued by the import. Load
average (1 minute) at the end: {load:.2f}. The import's passes (its progress lines): {passes}.

| run | wall time | peak RSS | rows/s |
| --- | ---: | ---: | ---: |
| import into an empty table (every line checked, then written) | {secs:.1f} s | {rss_mib:.1f} MiB | {rows / secs:,.0f} |
| the same file again (checked, nothing to write) | {again_secs:.1f} s | {again_rss / 1024:.1f} MiB | {rows / again_secs:,.0f} |
| export of the table ({exported_rows:,} lines) | {export_secs:.1f} s | {export_rss / 1024:.1f} MiB | {exported_rows / export_secs:,.0f} |

| target | measured | met |
| --- | --- | --- |
| 100,000 serials for 40,000 accounts in under 5 minutes | {secs:.1f} s | {"yes" if minutes_ok else "no: missed"} |
| peak RSS under 100 MB | {rss_mib:.1f} MiB | {"yes" if rss_ok else "no: missed"} |
"""
    print(section)
    if args.write:
        write_section(args.write, section)


def write_section(path, section):
    begin, end = "<!-- bench-import:begin -->", "<!-- bench-import:end -->"
    text = open(path, encoding="utf-8").read()
    block = f"{begin}\n{section}{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n## Import: 100,000 serials\n\n" + block + "\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate")
    g.add_argument("file")
    g.add_argument("--serials", type=int, default=100_000)
    g.add_argument("--accounts", type=int, default=40_000)
    r = sub.add_parser("run")
    r.add_argument("--bin", required=True)
    r.add_argument("--file", required=True)
    r.add_argument("--table", required=True)
    r.add_argument("--accounts", type=int, default=40_000)
    r.add_argument("--write")
    args = p.parse_args()
    if args.command == "generate":
        generate(args.file, args.serials, args.accounts)
    else:
        run(args)


if __name__ == "__main__":
    main()
