"""The fixture: accounts and serials loaded with portal-admin, and the reset mail's
token read back from moto."""

import datetime
import json
import os
import re
import subprocess
import threading

from .common import COMPANY, PASSWORD


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
        self.admin("keys", "rotate", "--if-missing")  # the signing key of validation answers
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
        # The serial billing's payments name (record-payment): a monthly subscription of its own.
        self.payer_serial = self.admin("subscription", "add", "--email", self.resetter, "--system", "SAE", "--version",
                                       "8.0", "--users", "1", "--plan", "subscription", "--billing", "monthly",
                                       "--next-payment-on", later(13), "--activated-on", earlier(100))
        # Upgradable serials, one per upgrade measured (the cold starts' first real requests;
        # the warm run and its warm-up, twice: timed, then counting round trips).
        self.upgradable = []
        n = 2 * (args.warm + 1) + args.runs
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
        fx.admin("keys", "rotate", "--if-missing")

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
                "AWS_ENDPOINT_URL_SECRETS_MANAGER": args.moto,
                "SIGNING_KEYS_SECRET": f"{args.table}/signing-keys",
                "AWS_ENDPOINT_URL_EVENTBRIDGE": args.moto,
                "AWS_ENDPOINT_URL_SQS": args.moto,
                "EVENT_BUS_NAME": "portal-local-events",
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
