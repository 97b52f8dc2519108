#!/usr/bin/env python3
"""The load run behind `make load` (scripts/load.sh starts the stack and calls this).

1. Seeds CUSTOMERS accounts with portal-admin (a known password, a company, LOAD_SERIALS
   upgradable subscriptions and two that are not), on the catalog of `seed-demo`.
2. For --seconds, runs simulated customers (log in, list, sometimes upgrade one of their
   serials, now and then several requests at once for the same serial, rarely a password
   reset, log out) and desktop programs (validate serials with the right company, now and
   then a wrong one, expecting 403), each thread from its own loopback address, through
   the local gateway's production paths.
3. Reports per route: count, req/s, p50, p99 and the statuses; an error is any 5xx, any
   connection error, any status the route should not answer here (a 401 or 429 on a right
   password is one: the load never guesses).
4. Checks the data: every upgraded serial has exactly one successor (upgraded_from) and
   names it (superseded_by), every answer named that successor and only one was a 201,
   one upgrade mail (moto) and one SerialUpgraded event (the bus's queue) per upgrade,
   no serial number twice. Exits 1 if any check fails, saying which.

Standard library plus boto3 (from .tools/venv). Reads the emulators' addresses from the
command line and TABLE_NAME from the environment.
"""

import argparse
import collections
import http.client
import json
import math
import os
import random
import secrets
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import boto3
from boto3.dynamodb.conditions import Key

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mail  # noqa: E402  (scripts/mail.py: reading moto's mailbox)

UPGRADE_SUBJECT = "Actualización de versión para tu sistema"
# What a customer does in one visit, as probabilities (why these: upgrades are what the
# checks are about, so they are far commoner than in real life; resets are rare and cost
# 600 ms by design).
P_SECOND_LIST = 0.3  # list again, grouped
P_UPGRADE = 0.4  # ask for an upgrade during the visit
P_RACE = 0.25  # ... as a burst of 3 to 5 simultaneous requests for the same serial
P_REPEAT = 0.2  # ... for a serial already upgraded (a repeat must answer 200, same serial)
P_RESET = 0.03
P_WRONG_COMPANY = 0.05  # a program validates with someone else's company
WRONG_PER_ADDRESS = 5  # stay well under the 10 mismatches / serial / address / hour limit

# Upgradable subscriptions (system, version, billing, next payment in days) on seed-demo's
# catalog (SAE 8.0, NOI 11.0, COI 10.0, BANCO 6.0), taken in turn; and two that are not.
UPGRADABLE = [("SAE", "7.0", "monthly", 20), ("NOI", "10.0", "annual", 200), ("BANCO", "5.0", "semiannual", 90),
              ("COI", "9.0", "monthly", 10), ("SAE", "7.0", "annual", 300)]
NOT_UPGRADABLE = [["--system", "NOI", "--version", "11.0", "--plan", "subscription", "--billing", "annual"],
                  ["--system", "COI", "--version", "10.0", "--plan", "license"]]


class Stats:
    """Every request's route, status and latency; the unexpected ones with a reason."""

    def __init__(self):
        self.lock = threading.Lock()
        self.samples = collections.defaultdict(list)  # route -> [(status, seconds)]
        self.errors = []  # (route, status, reason)

    def add(self, route, status, seconds, expected, reason=""):
        with self.lock:
            self.samples[route].append((status, seconds))
            if status not in expected or reason:
                self.errors.append((route, status, reason or "unexpected status"))

    def problem(self, route, status, reason):
        """An answer with an expected status but a wrong body."""
        with self.lock:
            self.errors.append((route, status, reason))


class Run:
    """What the clients share: the accounts, the serials programs validate, the answers."""

    def __init__(self, args, accounts):
        self.args = args
        self.accounts = accounts  # [{email, company, serials: [...]}]
        self.stats = Stats()
        self.lock = threading.Lock()
        self.installed = [(s, a["company"]) for a in accounts for s in a["serials"]]  # what programs validate
        self.company_of = dict(self.installed)
        self.new_serials = []  # successors seen in answers: validated too (first activations race)
        self.answers = collections.defaultdict(list)  # old serial -> [(status, new serial)]
        self.wrong = collections.Counter()  # (serial, address) -> mismatches sent
        self.deadline = 0.0

    # -- HTTP: one connection a request, from the client's own loopback address, so the
    # gateway hands the functions a distinct sourceIp per simulated client.
    def call(self, route, method, path, source, body=None, token=None, expected=(200,)):
        host = urllib.parse.urlsplit(self.args.api)
        headers = {"connection": "close", "user-agent": "portal-load/1.0"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        if token:
            headers["authorization"] = f"Bearer {token}"
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection(host.hostname, host.port, timeout=120, source_address=(source, 0))
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            conn.close()
        except (OSError, http.client.HTTPException) as e:
            self.stats.add(route, "conn", time.perf_counter() - start, expected, f"connection error: {e}")
            return None, None
        took = time.perf_counter() - start
        try:
            answer = json.loads(raw) if raw else None
        except ValueError:
            answer = None
        reason = ""
        if resp.status not in expected:
            reason = f"{resp.status} {answer.get('code') if isinstance(answer, dict) else raw[:80]!r}"
        self.stats.add(route, resp.status, took, expected, reason)
        return resp.status, answer


def customer(run, index):
    rnd = random.Random(run.args.seed * 1000 + index)
    me = f"127.0.1.{index + 1}"
    own = run.accounts[index % len(run.accounts)]
    while time.monotonic() < run.deadline:
        # Mostly one's own account; sometimes another's, so two customers share a login
        # and race on its serials as two browsers of one company would.
        acct = own if rnd.random() < 0.75 else rnd.choice(run.accounts)
        st, ans = run.call("POST /login", "POST", "/login", me,
                           {"email": acct["email"], "password": run.args.password})
        if st != 200:
            time.sleep(0.5)
            continue
        token = ans["token"]
        st, ans = run.call("GET /subscriptions", "GET", "/subscriptions", me, token=token)
        rows = ans.get("subscriptions", []) if st == 200 else []
        if rnd.random() < P_SECOND_LIST:
            run.call("GET /subscriptions", "GET", "/subscriptions?group_by=system", me, token=token)
        if rows and rnd.random() < P_UPGRADE:
            offered = [r for r in rows if r["upgrade"].get("available")]
            repeats = [r for r in rows if r.get("superseded_by")]
            pool = repeats if repeats and (not offered or rnd.random() < P_REPEAT) else offered
            if pool:
                row = rnd.choice(pool)
                terms = (row["upgrade"].get("terms") or {}).get("version", "2022-10")
                burst = rnd.randint(3, 5) if rnd.random() < P_RACE else 1
                upgrade(run, token, row["serial"], terms, burst, index)
        if rnd.random() < P_RESET:
            run.call("POST /password-reset", "POST", "/password-reset", me, {"email": acct["email"]}, expected=(202,))
        run.call("POST /logout", "POST", "/logout", me, token=token, expected=(204,))
        time.sleep(rnd.uniform(0, run.args.think))


def upgrade(run, token, serial, terms, burst, index):
    """`burst` simultaneous requests for one serial, each from its own address."""
    def one(k):
        st, ans = run.call("POST /subscriptions/{serial}/upgrade", "POST", f"/subscriptions/{serial}/upgrade",
                           f"127.0.{2 + k}.{index + 1}", {"accept_terms": True, "terms_version": terms},
                           token=token, expected=(200, 201))
        if st in (200, 201):
            new = ((ans or {}).get("subscription") or {}).get("serial")
            if ((ans or {}).get("previous") or {}).get("serial") != serial:
                run.stats.problem("POST /subscriptions/{serial}/upgrade", st, f"previous is not {serial}")
            with run.lock:
                run.answers[serial].append((st, new))
                if new and new not in run.new_serials:
                    run.new_serials.append(new)
                    run.company_of[new] = run.company_of[serial]

    if burst == 1:
        one(0)
        return
    threads = [threading.Thread(target=one, args=(k,)) for k in range(burst)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def program(run, index):
    rnd = random.Random(run.args.seed * 1000 + 500 + index)
    me = f"127.0.9.{index + 1}"
    while time.monotonic() < run.deadline:
        with run.lock:
            fresh = list(run.new_serials)
        # A third of the time a successor: its first validation sets activated_on.
        serial = rnd.choice(fresh) if fresh and rnd.random() < 0.33 else rnd.choice(run.installed)[0]
        company = run.company_of[serial]
        nonce = secrets.token_hex(8)
        wrong = rnd.random() < P_WRONG_COMPANY and run.wrong[(serial, me)] < WRONG_PER_ADDRESS
        if wrong:
            run.wrong[(serial, me)] += 1
            other = rnd.choice([a["company"] for a in run.accounts if a["company"] != company])
            st, ans = run.call("POST /serials/{serial}/validate (wrong company)", "POST",
                               f"/serials/{serial}/validate", me, {"company": other, "nonce": nonce}, expected=(403,))
            if st == 403 and (ans or {}).get("code") != "company_mismatch":
                run.stats.problem("validate (wrong company)", st, f"code {ans}")
        else:
            # The company as a person types it: case and punctuation differ from the record.
            typed = company.lower().replace(" sa de cv", ", s.a. de c.v.")
            st, ans = run.call("POST /serials/{serial}/validate", "POST", f"/serials/{serial}/validate", me,
                               {"company": typed, "nonce": nonce})
            if st == 200 and (ans.get("nonce") != nonce or ans.get("serial") != serial or not ans.get("license")):
                run.stats.problem("POST /serials/{serial}/validate", st, "answer without its nonce/serial/license")
        time.sleep(rnd.uniform(0, run.args.think))


# ---- seeding ---------------------------------------------------------------------------

def admin(args, *argv, stdin=None):
    out = subprocess.run([args.admin, *argv], input=stdin, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"portal-admin {' '.join(argv[:2])} failed: {out.stderr.strip()}")
    return out.stdout.strip()


def seed(args):
    today = date.today()

    def one(i):
        email, company = f"carga{i:03d}@example.com", f"Comercial Carga {i:03d} SA de CV"
        admin(args, "account", "add", "--email", email, "--name", f"Cliente {i:03d}", "--company", company,
              "--password-stdin", stdin=args.password + "\n")
        serials = []
        for k in range(args.serials):
            system, version, billing, days = UPGRADABLE[k % len(UPGRADABLE)]
            serials.append(admin(args, "subscription", "add", "--email", email, "--system", system, "--version", version,
                                 "--users", str(1 + k % 4), "--plan", "subscription", "--billing", billing,
                                 "--next-payment-on", str(today + timedelta(days=days))))
        for extra in NOT_UPGRADABLE:
            more = ["--next-payment-on", str(today + timedelta(days=100))] if "annual" in extra else []
            serials.append(admin(args, "subscription", "add", "--email", email, "--users", "2", *extra, *more))
        return {"email": email, "company": company, "serials": serials}

    with ThreadPoolExecutor(4) as pool:  # portal-admin is a process each: a few at once
        return list(pool.map(one, range(args.customers)))


def warm_up(args):
    """Start every instance watch will run (--concurrency per function) before the clock
    starts. Bodies that are refused before any store read: no side effects."""
    probes = [("POST", "/login", {}), ("GET", "/subscriptions", None), ("POST", "/logout", None),
              ("POST", "/subscriptions/0000000000/upgrade", {}), ("POST", "/serials/0000000000/validate", {}),
              ("POST", "/password-reset", {})]

    def probe(i_p):
        i, (method, path, body) = i_p
        time.sleep(i * 0.1)  # staggered: a flood of connects while `cargo run` hogs both cores gets resets
        req = urllib.request.Request(args.api + path, method=method, data=None if body is None else b"{}",
                                     headers={"content-type": "application/json"})
        for _ in range(5):  # an instance's start runs `cargo run`: slow, and under load
            try:
                urllib.request.urlopen(req, timeout=600).read()
                return
            except urllib.error.HTTPError:
                return
            except OSError as e:
                print(f"[load] warm-up {method} {path}: {e}; again", flush=True)
                time.sleep(2)
        sys.exit(f"warm-up: {method} {path} never answered")

    with ThreadPoolExecutor(len(probes) * args.concurrency) as pool:
        list(pool.map(probe, enumerate(probes * args.concurrency)))


# ---- report ----------------------------------------------------------------------------

def percentile(xs, q):
    xs = sorted(xs)
    return xs[max(0, math.ceil(q * len(xs)) - 1)] if xs else float("nan")  # nearest rank


def report(run, elapsed):
    lines = ["| route | requests | req/s | p50 | p99 | max | statuses |", "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    total = 0
    for route in sorted(run.stats.samples):
        s = run.stats.samples[route]
        total += len(s)
        ms = [t * 1000 for _, t in s]
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(collections.Counter(str(st) for st, _ in s).items()))
        lines.append(f"| {route} | {len(s)} | {len(s) / elapsed:.1f} | {percentile(ms, 0.5):.0f} ms | "
                     f"{percentile(ms, 0.99):.0f} ms | {max(ms):.0f} ms | {statuses} |")
    lines.append(f"| **all** | {total} | {total / elapsed:.1f} | | | | |")
    return lines


# ---- data checks -----------------------------------------------------------------------

def check(run, args):
    """[(name, ok, detail)] from the store, the mailbox and the bus."""
    creds = dict(region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local")
    table = boto3.resource("dynamodb", endpoint_url=args.dynamodb, **creds).Table(os.environ["TABLE_NAME"])
    items = {}  # serial -> serial item, over every load account
    for a in run.accounts:
        login = table.get_item(Key={"pk": f"EMAIL#{a['email']}", "sk": "LOGIN"})["Item"]
        a["account_id"] = login["account_id"]
        kw = dict(KeyConditionExpression=Key("pk").eq(f"ACCOUNT#{a['account_id']}") & Key("sk").begins_with("SERIAL#"))
        while True:
            page = table.query(**kw)
            for it in page["Items"]:
                items[it["serial"]] = it
            if "LastEvaluatedKey" not in page:
                break
            kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # Every upgrade: the ones the clients were answered for and any the store shows.
    upgraded = set(run.answers) | {s for s, it in items.items() if it.get("superseded_by")}
    problems = collections.defaultdict(list)
    successor = {}
    for old in sorted(upgraded):
        succ = [s for s, it in items.items() if it.get("upgraded_from") == old]
        if len(succ) != 1:
            problems["one successor"].append(f"{old}: {len(succ)} serials with upgraded_from = it {succ}")
            continue
        successor[old] = succ[0]
        if items.get(old, {}).get("superseded_by") != succ[0]:
            problems["superseded_by"].append(f"{old}: superseded_by {items.get(old, {}).get('superseded_by')}, successor {succ[0]}")
        answered = {new for _, new in run.answers.get(old, [])}
        if answered - {succ[0]}:
            problems["answers"].append(f"{old}: answers named {sorted(answered)}, the store {succ[0]}")
        created = sum(1 for st, _ in run.answers.get(old, []) if st == 201)
        if old in run.answers and created != 1:
            problems["one 201"].append(f"{old}: {created} answers 201 of {len(run.answers[old])}")

    # The mailbox: one upgrade mail per successor, to the account's e-mail.
    with urllib.request.urlopen(f"{args.moto}/moto-api/data.json", timeout=30) as r:
        msgs = mail.messages(json.load(r))
    ups = [m for m in msgs if m["subject"].startswith(UPGRADE_SUBJECT)]
    email_by_id = {a["account_id"]: a["email"] for a in run.accounts}
    email_of = {s: email_by_id.get(it["account_id"]) for s, it in items.items()}
    for old, new in sorted(successor.items()):
        named = [m for m in ups if new in m["body"] or new in [s for s, _ in mail.serials(m["body"])]]
        if len(named) != 1:
            problems["one mail"].append(f"{old} -> {new}: {len(named)} upgrade mails name it")
        elif email_of.get(new) not in named[0]["to"]:
            problems["one mail"].append(f"{new}: mail to {named[0]['to']}, account {email_of.get(new)}")
    if len(ups) != len(successor):
        problems["one mail"].append(f"{len(ups)} upgrade mails for {len(successor)} upgrades")

    # The events leave through the table's stream (the gateway polls it, as Lambda does,
    # and invokes send-pending-mail): give the last upgrades' events a moment to leave.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        waiting = table.query(
            KeyConditionExpression=Key("pk").eq("OUTBOX") & Key("sk").begins_with("EVENT#"), Select="COUNT"
        )["Count"]
        if waiting == 0:
            break
        time.sleep(0.5)

    # The bus: the rule copies every published event into "<bus>-published".
    sqs = boto3.client("sqs", endpoint_url=args.moto, **creds)
    url = sqs.get_queue_url(QueueName=f"{os.environ.get('EVENT_BUS_NAME', 'portal-local-events')}-published")["QueueUrl"]
    events = collections.Counter()
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600).get("Messages", [])
        if not got:
            break
        for m in got:
            body = json.loads(m["Body"])
            if body.get("detail-type") == "SerialUpgraded":
                events[(body["detail"].get("old_serial"), body["detail"].get("new_serial"))] += 1
    for old, new in sorted(successor.items()):
        if events[(old, new)] != 1:
            problems["one event"].append(f"{old} -> {new}: {events[(old, new)]} SerialUpgraded events")

    # No serial number twice, across every account of the table (the demo's included).
    seen = collections.Counter()
    kw = {}
    while True:
        page = table.scan(**kw)
        for it in page["Items"]:
            if it["pk"].startswith("ACCOUNT#") and it["sk"].startswith("SERIAL#"):
                seen[it["serial"]] += 1
        if "LastEvaluatedKey" not in page:
            break
        kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    dup = [f"{s} x{n}" for s, n in seen.items() if n > 1]

    statuses = collections.Counter(st for s in run.stats.samples.values() for st, _ in s)
    five = sum(n for st, n in statuses.items() if isinstance(st, int) and st >= 500)
    pending = table.query(KeyConditionExpression=Key("pk").eq("OUTBOX"))["Count"]
    n = len(upgraded)
    return [
        ("no 5xx", five == 0, f"{five} answers 5xx"),
        ("no connection errors or unexpected statuses", not run.stats.errors,
         f"{len(run.stats.errors)}: " + "; ".join(sorted({f'{r} {st} {why}' for r, st, why in run.stats.errors})[:8])),
        ("every upgrade has exactly one new serial (upgraded_from)", not problems["one successor"], f"{n} upgrades"),
        ("the old serial's superseded_by is that serial", not problems["superseded_by"], ""),
        ("every answer for a serial named that one new serial", not problems["answers"], ""),
        ("exactly one 201 per upgraded serial (the others 200)", not problems["one 201"], ""),
        ("exactly one upgrade mail per new serial, to the account", not problems["one mail"], f"{len(ups)} upgrade mails"),
        ("exactly one SerialUpgraded event per upgrade", not problems["one event"], f"{sum(events.values())} events"),
        ("no serial number twice", not dup, f"{len(seen)} serials; duplicates: {dup[:5]}"),
        ("outbox empty (no mail or event left unsent)", pending == 0, f"{pending} pending"),
    ], problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--api", required=True)
    ap.add_argument("--dynamodb", required=True)
    ap.add_argument("--moto", required=True)
    ap.add_argument("--admin", required=True, help="the portal-admin binary")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--customers", type=int, default=16)
    ap.add_argument("--programs", type=int, default=16)
    ap.add_argument("--serials", type=int, default=12, help="upgradable serials per account")
    ap.add_argument("--concurrency", type=int, default=4, help="instances per function (for the warm-up)")
    ap.add_argument("--think", type=float, default=0.1, help="a client waits 0 to THINK s between visits")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--report", help="also write the report (markdown) here")
    args = ap.parse_args()
    if args.customers < 2:
        ap.error("--customers: at least 2 (a wrong company is another account's)")
    args.password = "carga-" + secrets.token_hex(10)  # known to this run only; zxcvbn-strong

    t0 = time.monotonic()
    accounts = seed(args)
    print(f"[load] seeded {len(accounts)} accounts x {args.serials} upgradable + {len(NOT_UPGRADABLE)} other serials "
          f"({time.monotonic() - t0:.0f}s); warming up the functions...", flush=True)
    warm_up(args)
    run = Run(args, accounts)
    print(f"[load] {args.customers} customers and {args.programs} programs for {args.seconds:.0f}s "
          f"(seed {args.seed})...", flush=True)
    start = time.monotonic()
    run.deadline = start + args.seconds
    threads = [threading.Thread(target=customer, args=(run, i), daemon=True) for i in range(args.customers)]
    threads += [threading.Thread(target=program, args=(run, j), daemon=True) for j in range(args.programs)]
    for t in threads:
        t.start()
    for t in threads:  # the requests in flight at the deadline finish and count
        t.join()
    elapsed = time.monotonic() - start

    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    table = report(run, elapsed)
    checks, problems = check(run, args)
    out = [f"{when}: {args.customers} customers, {args.programs} programs, {elapsed:.1f} s "
           f"(load for {args.seconds:.0f} s, then the requests in flight), seed {args.seed}, "
           f"{args.concurrency} instances per function.", "", *table, "", "| data check | result | |",
           "| --- | --- | --- |"]
    out += [f"| {name} | {'ok' if ok else '**FAILED**'} | {detail} |" for name, ok, detail in checks]
    for name, lines in ((k, v) for k, v in problems.items() if v):
        out += ["", f"{name}: {len(lines)} problem(s)"] + [f"  - {x}" for x in lines[:20]]
    text = "\n".join(out)
    print("\n" + text)
    if args.report:
        with open(args.report, "w") as f:
            f.write(text + "\n")
    failed = [name for name, ok, _ in checks if not ok]
    print(f"\n[load] {'FAILED: ' + '; '.join(failed) if failed else 'all checks passed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C: load.sh stops the stack; no traceback
        print("\n[load] interrupted", file=sys.stderr)
        sys.exit(130)
