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

# The code is in scripts/benchkit/ (its __init__.py lists the modules); this file is
# the entry point: the command line.

import argparse
import sys

sys.dont_write_bytecode = True  # no __pycache__ in scripts/ (the package is imported from here)

from benchkit.common import ROOT  # noqa: E402
from benchkit.measure import cold_compare, report  # noqa: E402


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
    r.add_argument("--sdk-cost", help="bench/sdk-cost's binary: one DynamoDB request's CPU, SDK against bare socket")
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
